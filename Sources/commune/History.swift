import ArgumentParser
import CommuneClient
import CommuneProtocol
import Foundation

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a text channel's messages, oldest first.",
        discussion: """
            Pages like the protocol: --amount messages, skipping the --loaded newest. Page 2 of 50 is --loaded 50.
            """
    )

    @OptionGroup var client: ClientOptions

    @Argument(help: "The text channel: Category/Channel, or Channel at the top level.")
    var channel: ChannelArgument

    @Option(help: "How many messages (1 to 100).")
    var amount = 50

    @Option(help: "How many of the newest messages to skip.")
    var loaded = 0

    @Flag(help: "Print each message as one JSON object per line.")
    var json = false

    @Flag(help: "Print spoilers' content (otherwise each shows as ||…||).")
    var spoilers = false

    func validate() throws {
        guard (1...100).contains(self.amount) else { throw ValidationError("--amount must be between 1 and 100.") }
        guard self.loaded >= 0 else { throw ValidationError("--loaded must be 0 or more.") }
    }

    func run() async throws {
        let (connection, _, _) = try await self.client.connect()
        try await closing(connection) {
            let messages = try await orExit {
                try await connection.messages(in: self.channel.address, loaded: self.loaded, amount: self.amount)
            }
            let names = try await orExit { try await MessagePrinter.names(connection) }
            if messages.isEmpty && !self.json {
                Output.line("No messages.")
            }
            for message in messages.reversed() {
                Output.line(self.json ? message.json.jsonString : MessagePrinter.line(message, names: names, spoilers: self.spoilers))
            }
        }
    }
}

enum MessagePrinter {
    static func names(_ connection: CommuneConnection) async throws -> [UUIDString: String] {
        Dictionary(try await connection.members().map { ($0.userID, $0.username) }, uniquingKeysWith: { first, _ in first })
    }

    /// One message as history, tail and pins print it; spoilers show as `||…||` unless `spoilers` is true.
    static func line(_ message: ChatMessage, names: [UUIDString: String], spoilers: Bool = false) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let time = formatter.string(from: Date(timeIntervalSince1970: Double(message.sendTime) / 1000))
        let sender = message.senderID.map { names[$0] ?? String($0.value.prefix(8)) } ?? "(removed)"
        let body = Self.mentions(spoilers ? message.message : SpoilerText.hidden(message.message), names: names)
        var text = message.kind == .action ? "* \(sender) \(body)" : "\(sender): \(body)"
        for attachment in message.attachments {
            text += " [\(attachment.type) \(attachment.width)×\(attachment.height) \(attachment.attachmentID)]"
        }
        if message.edited { text += " (edited)" }
        if !message.reactions.isEmpty {
            text += " [" + message.reactions.map { "\($0.emoji) \($0.count)\($0.me ? "*" : "")" }.joined(separator: " ") + "]"
        }
        return "#\(message.messageID) \(time) \(Self.reply(message.replyTo, spoilers: spoilers))\(text)"
    }

    /// The text with each mention token `<@USER_ID>` as `@name` (the member's current name; `@unknown-member` for an
    /// id that is no member's).
    static func mentions(_ text: String, names: [UUIDString: String]) -> String {
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "<@") {
            result += rest[..<start.lowerBound]
            let after = rest[start.upperBound...]
            let idEnd = after.index(after.startIndex, offsetBy: 36, limitedBy: after.endIndex) ?? after.endIndex
            if idEnd < after.endIndex, after[idEnd] == ">", let id = UUIDString(String(after[..<idEnd])) {
                result += "@" + (names[id] ?? "unknown-member")
                rest = after[after.index(after: idEnd)...]
            } else {
                result += "<@"
                rest = after
            }
        }
        return result + rest
    }

    /// `↪ #41 alice: first line | ` before a reply; `↪ #41 (original removed) | ` when the original is gone.
    static func reply(_ preview: ReplyPreview?, spoilers: Bool = false) -> String {
        guard let preview else { return "" }
        if preview.removed { return "↪ #\(preview.messageID) (original removed) | " }
        return "↪ #\(preview.messageID) \(preview.senderName): \(spoilers ? preview.text : SpoilerText.hidden(preview.text)) | "
    }
}
