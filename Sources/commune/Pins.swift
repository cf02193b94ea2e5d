import ArgumentParser
import CommuneClient
import CommuneProtocol

/// `commune pins`: a channel's pinned messages; `--pin N` and `--unpin N` change them (needs pin_messages).
struct Pins: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List a text channel's pinned messages, newest pin first; --pin or --unpin a message (needs pin_messages).",
        discussion: "Example: commune pins General/General --pin 42"
    )

    @OptionGroup var client: ClientOptions

    @Argument(help: "The text channel: Category/Channel, or Channel at the top level.")
    var channel: ChannelArgument

    @Option(help: "Pin this message number first.")
    var pin: Int64?

    @Option(help: "Unpin this message number first.")
    var unpin: Int64?

    func validate() throws {
        if self.pin != nil && self.unpin != nil { throw ValidationError("Give --pin or --unpin, not both.") }
    }

    func run() async throws {
        let (connection, _, _) = try await self.client.connect()
        try await closing(connection) {
            let address = self.channel.address
            if let id = self.pin ?? self.unpin {
                let function = self.pin != nil ? TextFunction.pinMessage : TextFunction.unpinMessage
                _ = try await orExit { try await connection.call(function, on: address, codec: TextFunction.codec, payload: ["message_id": .int(id)]) }
            }
            let list = try await orExit { try await connection.call(TextFunction.getPins, on: address, codec: TextFunction.codec) }
            let names = try await orExit { try await MessagePrinter.names(connection) }
            let pins = list.payload["pins"]?.arrayValue ?? []
            if pins.isEmpty { Output.line("No pinned messages.") }
            for pin in pins {
                guard let value = pin["message"], let message = try? ChatMessage(json: value) else { continue }
                let by = pin["pinned_by_name"]?.stringValue ?? ""
                Output.line("\(MessagePrinter.line(message, names: names))  (pinned by \(by))")
            }
        }
    }
}
