import ArgumentParser
import CommuneClient
import CommuneProtocol

/// `commune react`: add or take back my emoji reaction on a message.
struct React: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "React to a message with an emoji (or take the reaction back with --remove).",
        discussion: "Example: commune react General/General 42 👍   ('commune history' shows message numbers and reactions.)"
    )

    @OptionGroup var client: ClientOptions

    @Argument(help: "The text channel: Category/Channel, or Channel at the top level.")
    var channel: ChannelArgument

    @Argument(help: "The message number in that channel.")
    var message: Int64

    @Argument(help: "One emoji.")
    var emoji: String

    @Flag(help: "Take my reaction back.")
    var remove = false

    func run() async throws {
        let (connection, _, _) = try await self.client.connect()
        try await closing(connection) {
            let count = try await orExit {
                try await connection.react(self.emoji, to: self.message, in: self.channel.address, adding: !self.remove)
            }
            Output.line("\(self.emoji) \(count) on message #\(self.message).")
        }
    }
}
