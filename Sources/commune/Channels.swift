import ArgumentParser
import CommuneClient
import CommuneProtocol

struct Channels: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the community's categories and channels, with the path to use in other commands."
    )

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let (connection, welcome, _) = try await self.client.connect()
        await connection.close()
        Self.printTree(welcome.interactables)
    }

    static func printTree(_ nodes: [InteractableNode]) {
        InteractableNode.walk(nodes) { path, node in
            let depth = path.isEmpty ? 0 : path.split(separator: "/").count
            let indent = String(repeating: "  ", count: depth)
            let address = ChannelAddress(path: path, name: node.name).description
            if node.codec == InteractableNode.categoryCodec {
                Output.line("\(indent)\(node.name)/")
            } else {
                var line = "\(indent)\(node.name)  [\(node.codec)]  \(address)"
                if let users = node.data["active_users"]?.objectValue, !users.isEmpty {
                    line += "  (\(users.count) in call)"
                }
                Output.line(line)
            }
        }
    }
}
