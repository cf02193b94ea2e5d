import ArgumentParser
import CommuneClient
import CommuneProtocol
import Foundation

struct Search: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search the messages of the channels you can read, newest first.",
        discussion: """
            Finds messages holding every word of QUERY (whole words, case and accents aside; quotes, *, : and the \
            like are not operators). Each result is printed as `Category/Channel #id time author: snippet`; \
            `commune history` with --loaded shows it in context. When there are more results, the last line gives \
            the --cursor for the next page.
            Times for --before and --after: Unix milliseconds, a UTC date (2026-12-01) or date and time \
            (2026-12-01T17:30), or a duration ago (90m, 12h, 7d).
            """
    )

    @OptionGroup var client: ClientOptions

    @Argument(help: "The words to find.")
    var query: String

    @Option(help: "Only in this channel (Category/Channel), or every channel of a category.")
    var channel: ChannelArgument?

    @Option(help: "Only messages by this member: a username or a user id.")
    var author: String?

    @Option(help: "Only messages sent before this time.")
    var before: SearchTime?

    @Option(help: "Only messages sent at or after this time.")
    var after: SearchTime?

    @Option(help: "How many results (1 to 50).")
    var amount = 25

    @Option(help: "The next page: the cursor a previous search printed.")
    var cursor: String?

    @Flag(help: "Print each result as one JSON object per line.")
    var json = false

    func validate() throws {
        guard (1...50).contains(self.amount) else { throw ValidationError("--amount must be between 1 and 50.") }
    }

    func run() async throws {
        let (connection, _, _) = try await self.client.connect()
        try await closing(connection) {
            let names = try await orExit { try await MessagePrinter.names(connection) }
            let author = try self.author.map { try Self.member($0, names: names) }
            let page = try await orExit {
                try await connection.search(
                    self.query, channel: self.channel?.address, author: author, before: self.before?.milliseconds,
                    after: self.after?.milliseconds, cursor: self.cursor, amount: self.amount
                )
            }
            if page.results.isEmpty && !self.json { Output.line("No messages found.") }
            for result in page.results {
                Output.line(self.json ? Self.json(result).jsonString : Self.line(result, names: names))
            }
            if let next = page.nextCursor, !self.json { Output.line("More: --cursor \(next)") }
        }
    }

    /// A member's id from a username (as written, else ignoring case) or a user id.
    static func member(_ text: String, names: [UUIDString: String]) throws -> UUIDString {
        if let id = UUIDString(text) { return id }
        if let exact = names.first(where: { $0.value == text }) { return exact.key }
        let matches = names.filter { $0.value.lowercased() == text.lowercased() }
        guard matches.count == 1, let match = matches.first else { throw CommandFailure("No member named '\(text)'.") }
        return match.key
    }

    static func line(_ result: SearchResult, names: [UUIDString: String]) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let time = formatter.string(from: Date(timeIntervalSince1970: Double(result.sendTime) / 1000))
        let sender = result.senderID.map { names[$0] ?? String($0.value.prefix(8)) } ?? "(removed)"
        let text = result.kind == .action ? "* \(sender) \(result.snippet)" : "\(sender): \(result.snippet)"
        return "\(result.channel) #\(result.messageID) \(time) \(text)\(result.edited ? " (edited)" : "")"
    }

    static func json(_ result: SearchResult) -> JSONValue {
        [
            "path": .string(result.channel.path), "name": .string(result.channel.name), "message_id": .int(result.messageID),
            "sender_id": result.senderID.map { .string($0.value) } ?? .null, "send_time": .int(result.sendTime),
            "kind": .string(result.kind.rawValue), "edited": .bool(result.edited), "snippet": .string(result.snippet),
        ]
    }
}

/// A time on the command line: Unix milliseconds, a UTC date or date and time, or a duration ago.
struct SearchTime: ExpressibleByArgument {
    let milliseconds: Int64

    init?(argument: String) {
        if let number = Int64(argument), number >= 0 {
            self.milliseconds = number
            return
        }
        if let duration = try? DurationParser.milliseconds(argument) {
            self.milliseconds = Int64(Date().timeIntervalSince1970 * 1000) - duration
            return
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        for format in ["yyyy-MM-dd", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: argument) {
                self.milliseconds = Int64(date.timeIntervalSince1970 * 1000)
                return
            }
        }
        return nil
    }
}
