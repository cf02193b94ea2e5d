import ArgumentParser
import CommuneClient

struct Members: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the community's members and who is online.")

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let (connection, _, _) = try await self.client.connect()
        try await closing(connection) {
            let members = try await orExit { try await connection.members() }
            for member in members {
                Output.line("\(member.online ? "●" : "○") \(member.username)  [\(member.group)]  \(member.userID)")
            }
        }
    }
}
