import ArgumentParser
import CommuneClient
import CommuneProtocol

struct VoiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "voice",
        abstract: "Voice channels: who is in a call.",
        subcommands: [Status.self]
    )

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show who is in a voice channel's call and their states (muted, deafened, live, server-muted)."
        )

        @OptionGroup var client: ClientOptions

        @Argument(help: "The voice channel: Category/Channel, or Channel at the top level (e.g. General/VC-1).")
        var channel: ChannelArgument

        func run() async throws {
            let (connection, welcome, _) = try await self.client.connect()
            let members = try await closing(connection) { try await orExit { try await connection.members() } }
            var found: InteractableNode?
            InteractableNode.walk(welcome.interactables) { path, node in
                if ChannelAddress(path: path, name: node.name) == self.channel.address { found = node }
            }
            guard let node = found else { throw CommandFailure("No channel '\(self.channel.address)'; list them with `commune channels`.") }
            guard node.codec == "voice" else { throw CommandFailure("'\(self.channel.address)' is a \(node.codec) channel, not a voice channel.") }
            let users = node.data["active_users"]?.objectValue ?? [:]
            guard !users.isEmpty else {
                Output.line("Nobody is in \(self.channel.address).")
                return
            }
            let names = Dictionary(members.map { ($0.userID.value, $0.username) }, uniquingKeysWith: { first, _ in first })
            Output.line("\(users.count) in \(self.channel.address):")
            for (id, user) in users.sorted(by: { (names[$0.key] ?? $0.key) < (names[$1.key] ?? $1.key) }) {
                Output.line("  " + Self.describe(name: names[id] ?? id, user))
            }
        }

        /// "alice  muted, live: slides, server-muted"
        static func describe(name: String, _ user: JSONValue) -> String {
            var parts = [user["state"]?.stringValue ?? "unknown"]
            if user["talking"]?.boolValue == true { parts.append("talking") }
            if user["streaming"]?.boolValue == true {
                let label = user["live_label"]?.stringValue ?? ""
                parts.append(label.isEmpty ? "live" : "live: \(label)")
            }
            if user["video"]?.boolValue == true { parts.append("camera on") }
            if user["audio"]?.boolValue == false { parts.append("no microphone") }
            if user["server_muted"]?.boolValue == true { parts.append("server-muted") }
            return "\(name)  \(parts.joined(separator: ", "))"
        }
    }
}
