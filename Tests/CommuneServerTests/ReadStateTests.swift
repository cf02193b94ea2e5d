import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import CommuneSQLite
import Foundation
import Testing

/// Read state over the wire: one member on two devices and another member. Unread counts come from the channel's
/// newest message id and the member's mark; marking read on one device reaches the other at once (and nobody else),
/// never moves back, survives a restart, and bad marks change nothing.
@Suite("Read state")
struct ReadStateTests {
    let general = ChannelAddress(path: "General", name: "General")
    let rules = ChannelAddress(path: "", name: "Rules")

    func entry(_ channel: ChannelAddress, in state: [ChannelReadState]) throws -> ChannelReadState {
        try #require(state.first { $0.channel == channel })
    }

    @Test("marking read on one device clears unread on the other, live; others' marks are their own")
    func markReadAcrossDevices() async throws {
        let server = try await TestServer.start()
        let alice = try await server.owner("alice")
        let bob = try await server.member("bob")
        // Alice's second device: the same identity, logged in again.
        let phone = try await server.connect()
        _ = try await phone.login(alice.identity)
        let phoneEvents = EventReader(phone)

        for text in ["one", "two", "three", "four", "five"] { try await bob.connection.sendMessage(text, to: self.general) }
        let before = try await phone.readState()
        #expect(try self.entry(self.general, in: before) == ChannelReadState(channel: self.general, lastRead: 0, lastMessageID: 5, unread: 5))
        #expect(try self.entry(self.rules, in: before).unread == 0)
        // Every text channel, and nothing else (the voice channel keeps no messages).
        #expect(Set(before.map(\.channel)) == [self.general, self.rules])

        let marked = try await alice.connection.markRead(self.general, upTo: 3)
        #expect(marked == (3, 2))
        let update = try await phoneEvents.nextUpdate(ReadStateFunctions.readMarked)
        #expect(update.address == self.general)
        #expect(update.payload == ["message_id": 3, "unread": 2])
        #expect(try self.entry(self.general, in: try await phone.readState()).unread == 2)
        // Bob's own state is untouched, and he is not told of Alice's marks: his next update is his own message's.
        #expect(try self.entry(self.general, in: try await bob.connection.readState()).unread == 5)
        try await alice.connection.sendMessage("marker", to: self.general)
        let next = try await bob.events.nextUpdate(TextFunction.messageLive)
        #expect(next.payload["message"]?.stringValue == "marker")

        // A mark behind the current one changes nothing and tells nobody.
        #expect(try await phone.markRead(self.general, upTo: 1) == (3, 3))
        #expect(try self.entry(self.general, in: try await alice.connection.readState()).lastRead == 3)
        // Read to the end on the phone: the first device hears it.
        #expect(try await phone.markRead(self.general, upTo: 6) == (6, 0))
        let cleared = try await alice.events.nextUpdate(ReadStateFunctions.readMarked)
        #expect(cleared.payload == ["message_id": 6, "unread": 0])
        await server.stopAndRemove()
    }

    @Test("marks beyond the newest message, negative or not numbers are refused, and nothing changes")
    func badMarks() async throws {
        let server = try await TestServer.start()
        let alice = try await server.owner("alice")
        try await alice.connection.sendMessage("hello", to: self.general)
        try await alice.connection.markRead(self.general, upTo: 1)
        await expectError(.notFound) { _ = try await alice.connection.markRead(self.general, upTo: 2) }
        await expectError(.invalidArgument) { _ = try await alice.connection.markRead(self.general, upTo: -1) }
        await expectError(.invalidArgument) {
            _ = try await alice.connection.call("mark_read", on: self.general, payload: ["message_id": "1"])
        }
        await expectError(.notFound) { _ = try await alice.connection.markRead(ChannelAddress(path: "General", name: "Nowhere"), upTo: 0) }
        // The voice channel keeps no messages: it has no read state.
        await expectError(.unknownFunction) { _ = try await alice.connection.markRead(ChannelAddress(path: "General", name: "VC-1"), upTo: 0) }
        #expect(try self.entry(self.general, in: try await alice.connection.readState()) == ChannelReadState(channel: self.general, lastRead: 1, lastMessageID: 1, unread: 0))
        await server.stopAndRemove()
    }

    @Test("marks are written together and survive a restart")
    func marksSurviveARestart() async throws {
        let server = try await TestServer.start()
        let alice = try await server.owner("alice")
        for text in ["a", "b", "c"] { try await alice.connection.sendMessage(text, to: self.general) }
        // Reading along: many marks, one row in the end.
        for id in Int64(1)...3 { try await alice.connection.markRead(self.general, upTo: id) }
        await server.stop()
        let stored = try await SQLiteStore(directory: server.directory).readMarks(memberID: alice.identity.userID)
        #expect(stored.count == 1)
        #expect(stored.values.first == 3)

        let restarted = try await TestServer.start(directory: server.directory)
        let again = try await restarted.connect()
        _ = try await again.login(alice.identity, communityKey: alice.welcome.communityKey)
        #expect(try self.entry(self.general, in: try await again.readState()) == ChannelReadState(channel: self.general, lastRead: 3, lastMessageID: 3, unread: 0))
        await restarted.stopAndRemove()
    }
}
