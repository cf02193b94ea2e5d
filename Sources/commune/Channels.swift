import ArgumentParser
import CommuneClient
import CommuneProtocol

struct Channels: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the community's categories and channels, with the path to use in other commands.",
        discussion: "Text channels with messages you have not read (on any of your devices) show how many."
    )

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let (connection, welcome, _) = try await self.client.connect()
        // A server without read state still lists its channels.
        let unread = (try? await connection.readState()).map { states in
            Dictionary(states.map { ($0.channel, $0.unread) }, uniquingKeysWith: max)
        } ?? [:]
        await connection.close()
        Self.printTree(welcome.interactables, unread: unread)
    }

    static func printTree(_ nodes: [InteractableNode], unread: [ChannelAddress: Int64] = [:]) {
        InteractableNode.walk(nodes) { path, node in
            let depth = path.isEmpty ? 0 : path.split(separator: "/").count
            let indent = String(repeating: "  ", count: depth)
            let address = ChannelAddress(path: path, name: node.name).description
            let restricted = node.access.map { "  (private: \($0.isEmpty ? "owner only" : $0.joined(separator: ", ")))" } ?? ""
            if node.codec == InteractableNode.categoryCodec {
                Output.line("\(indent)\(node.name)/\(restricted)")
            } else {
                var line = "\(indent)\(node.name)  [\(node.codec)]  \(address)\(restricted)"
                if let users = node.data["active_users"]?.objectValue, !users.isEmpty {
                    line += "  (\(users.count) in call)"
                }
                if let count = unread[ChannelAddress(path: path, name: node.name)], count > 0 {
                    line += "  (\(count) unread)"
                }
                Output.line(line)
            }
        }
    }
}
