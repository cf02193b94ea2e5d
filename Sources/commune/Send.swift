import ArgumentParser
import CommuneClient
import CommuneProtocol

struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send a message to a text channel; returns once the server has stored it.",
        discussion: "Example: commune send General/General \"hello, world\""
    )

    @OptionGroup var client: ClientOptions

    @Argument(help: "The text channel: Category/Channel, or Channel at the top level.")
    var channel: ChannelArgument

    @Argument(help: "The message text (quote it). Use - to read it from standard input.")
    var text: String

    @Flag(help: "Send it as an action, shown as '* you <text>' (like /me).")
    var me = false

    @Option(name: .customLong("reply-to"), help: "Reply to this message number of the same channel (see 'commune history').")
    var replyTo: Int64?

    func run() async throws {
        var message = self.text
        if message == "-" {
            var lines: [String] = []
            while let line = readLine(strippingNewline: true) { lines.append(line) }
            message = lines.joined(separator: "\n")
        }
        let (connection, _, _) = try await self.client.connect()
        try await closing(connection) {
            let receipt = try await orExit {
                try await connection.sendMessage(message, to: self.channel.address, kind: self.me ? .action : .text, replyTo: self.replyTo)
            }
            Output.line("Sent message #\(receipt.messageID) to \(self.channel.address).")
        }
    }
}
