import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Testing

/// Presence with several devices: others hear a member come online with their first connection and go offline with
/// their last, and nothing in between.
@Suite("Presence across devices")
struct PresenceTests {
    let general = ChannelAddress(path: "General", name: "General")

    /// The `online` values of `member`'s presence updates that `observer` receives before `marker` arrives.
    func presences(of member: UUIDString, seenBy observer: Client, until marker: String) async throws -> [Bool] {
        var seen: [Bool] = []
        for _ in 0..<100 {
            let envelope = try #require(try await observer.events.next())
            let update = try FunctionResult(data: envelope.data)
            if update.result == "message_live", update.payload["message"]?.stringValue == marker { return seen }
            if update.result == "presence", update.payload["user_id"]?.stringValue == member.value {
                seen.append(try #require(update.payload["online"]?.boolValue))
            }
        }
        throw TestFailure("no marker '\(marker)' within 100 frames")
    }

    /// Waits (bounded) until the server has counted `member`'s connections down to none or up to some.
    func waitUntil(_ server: TestServer, _ member: UUIDString, online: Bool) async throws {
        for _ in 0..<500 {
            if server.server.community.isOnline(member) == online { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("\(member) did not become \(online ? "online" : "offline")")
    }

    @Test("extra devices, one after another or at once, neither re-announce their member online nor, leaving, offline; the last one leaving does")
    func extraDevices() async throws {
        let server = try await TestServer.start()
        let bob = try await server.member("bob")
        let carol = try await server.member("carol")
        let dave = try await server.member("dave")
        let alice = try await server.member("alice")
        let id = alice.identity.userID
        _ = try await dave.connection.sendMessage("alice is here", to: self.general)
        for observer in [bob, carol] {
            #expect(try await self.presences(of: id, seenBy: observer, until: "alice is here") == [true])
        }

        // Alice's phone and laptop log in too, and three tablets at once; then the phone leaves: Bob and Carol
        // hear nothing of it.
        let phone = try await server.connect()
        _ = try await phone.login(alice.identity)
        let laptop = try await server.connect()
        _ = try await laptop.login(alice.identity)
        let tablets = try await withThrowingTaskGroup(of: CommuneConnection.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    let tablet = try await server.connect()
                    _ = try await tablet.login(alice.identity)
                    return tablet
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        await phone.close()
        for _ in 0..<500 where server.server.connectionCount > 8 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(server.server.connectionCount == 8)
        _ = try await dave.connection.sendMessage("devices", to: self.general)
        for observer in [bob, carol] {
            #expect(try await self.presences(of: id, seenBy: observer, until: "devices") == [])
        }
        #expect(try await bob.connection.members().first { $0.userID == id }?.online == true)

        // The last device leaving is announced once.
        for tablet in tablets { await tablet.close() }
        await laptop.close()
        await alice.connection.close()
        try await self.waitUntil(server, id, online: false)
        _ = try await dave.connection.sendMessage("gone", to: self.general)
        for observer in [bob, carol] {
            #expect(try await self.presences(of: id, seenBy: observer, until: "gone") == [false])
        }
        await server.stopAndRemove()
    }
}
