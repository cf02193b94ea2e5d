import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneSQLite
import CommuneServer
import Testing

@Suite("Durability over the wire")
struct DurabilityServerTests {
    @Test("a server with durability full acknowledges sends after they are on the disk and keeps them across a restart")
    func full() async throws {
        let server = try await TestServer.start { $0.durability = .full }
        let alice = try await server.member("alice")
        let general = ChannelAddress(path: "General", name: "General")
        for index in 1...20 {
            #expect(try await alice.connection.sendMessage("durable \(index)", to: general).messageID == Int64(index))
        }
        await server.stop()
        let restarted = try await TestServer.start(directory: server.directory) { $0.durability = .full }
        let again = try await restarted.connect()
        _ = try await again.login(alice.identity)
        #expect(try await again.messages(in: general).map(\.message) == (1...20).reversed().map { "durable \($0)" })
        await restarted.stopAndRemove()
    }
}
