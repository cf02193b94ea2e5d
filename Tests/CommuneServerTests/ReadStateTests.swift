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

    /// The `message_live` of `text`, skipping the ones before it (at most ten).
    func live(_ text: String, on events: EventReader) async throws -> FunctionResult {
        for _ in 0..<10 {
            let update = try await events.nextUpdate(TextFunction.messageLive)
            if update.payload["message"]?.stringValue == text { return update }
        }
        throw TestFailure("no message_live of '\(text)' among the next ten")
    }

    /// The updates heard up to the `message_live` of `text` (at most twenty): each message's text, or the result's name.
    func updates(until text: String, on events: EventReader) async throws -> [String] {
        var heard: [String] = []
        while heard.last != text, heard.count < 20, let envelope = try await events.next() {
            guard envelope.type == .update, let update = try? FunctionResult(data: envelope.data) else { continue }
            heard.append(update.result == TextFunction.messageLive ? update.payload["message"]?.stringValue ?? "?" : update.result)
        }
        return heard
    }

    @Test("marking read on one device clears unread on the other, live; others' marks are their own")
    func markReadAcrossDevices() async throws {
        let server = try await TestServer.start()
        let alice = try await server.owner("alice")
        let bob = try await server.member("bob")
        // Alice's second device: the same identity, logged in again.
        let phone = try await server.secondDevice(of: alice)

        for text in ["one", "two", "three", "four", "five"] { try await bob.connection.sendMessage(text, to: self.general) }
        let before = try await phone.connection.readState()
        #expect(try self.entry(self.general, in: before) == ChannelReadState(channel: self.general, lastRead: 0, lastMessageID: 5, unread: 5))
        #expect(try self.entry(self.rules, in: before).unread == 0)
        // Every text channel, and nothing else (the voice channel keeps no messages).
        #expect(Set(before.map(\.channel)) == [self.general, self.rules])

        let marked = try await alice.connection.markRead(self.general, upTo: 3)
        #expect(marked == (3, 2))
        let update = try await phone.events.nextUpdate(ReadStateFunctions.readMarked)
        #expect(update.address == self.general)
        #expect(update.payload == ["message_id": 3, "unread": 2])
        #expect(try self.entry(self.general, in: try await phone.connection.readState()).unread == 2)
        // Bob's own state is untouched (he has read up to his own last message), and he is not told of Alice's
        // marks: his next update is her message's.
        #expect(try self.entry(self.general, in: try await bob.connection.readState()).lastRead == 5)
        try await alice.connection.sendMessage("marker", to: self.general)
        let next = try await bob.events.nextUpdate(TextFunction.messageLive)
        #expect(next.payload["message"]?.stringValue == "marker")

        // Alice's own message marked the channel read up to it, for the phone too.
        #expect(try self.entry(self.general, in: try await phone.connection.readState()) == ChannelReadState(channel: self.general, lastRead: 6, lastMessageID: 6, unread: 0))

        // A mark behind the current one changes nothing and tells nobody.
        #expect(try await phone.connection.markRead(self.general, upTo: 1) == (6, 0))
        #expect(try self.entry(self.general, in: try await alice.connection.readState()).lastRead == 6)
        // Read to the end on the phone: the first device hears it.
        try await bob.connection.sendMessage("seven", to: self.general)
        #expect(try await phone.connection.markRead(self.general, upTo: 7) == (7, 0))
        let cleared = try await alice.events.nextUpdate(ReadStateFunctions.readMarked)
        #expect(cleared.payload == ["message_id": 7, "unread": 0])
        await server.stopAndRemove()
    }

    @Test("sending a message marks the channel read up to it for the sender: every device of theirs, nobody else")
    func sendingMarksRead() async throws {
        let server = try await TestServer.start()
        let alice = try await server.owner("alice")
        let bob = try await server.member("bob")
        let phone = try await server.secondDevice(of: alice)

        for text in ["one", "two"] { try await bob.connection.sendMessage(text, to: self.general) }
        #expect(try self.entry(self.general, in: try await phone.connection.readState()).unread == 2)
        // Alice answers from her first device without marking anything: she has read what she answered.
        try await alice.connection.sendMessage("answer", to: self.general)
        // The phone hears the message (and applies it as a mark: PROTOCOL) and the server has moved the mark.
        #expect(try await self.live("answer", on: phone.events).payload["sender_id"]?.stringValue == alice.identity.userID.value)
        #expect(try self.entry(self.general, in: try await phone.connection.readState()) == ChannelReadState(channel: self.general, lastRead: 3, lastMessageID: 3, unread: 0))
        // Bob's unread count is his own: his messages are read (he sent them), Alice's is not.
        #expect(try self.entry(self.general, in: try await bob.connection.readState()) == ChannelReadState(channel: self.general, lastRead: 2, lastMessageID: 3, unread: 1))
        try await bob.connection.sendMessage("three", to: self.general)
        _ = try await self.live("three", on: alice.events)
        #expect(try self.entry(self.general, in: try await alice.connection.readState()).unread == 1)
        // Bob's answer marked read for him up to it, Alice's message included.
        #expect(try self.entry(self.general, in: try await bob.connection.readState()).unread == 0)
        // No read_marked is sent for a message: everything Bob and Alice's phone got up to Alice's next message holds none.
        try await alice.connection.sendMessage("last", to: self.general)
        for events in [bob.events, phone.events] {
            let heard = try await self.updates(until: "last", on: events)
            #expect(!heard.contains(ReadStateFunctions.readMarked))
            #expect(heard.last == "last")
        }

        // The mark is kept like any other: written with the others, so it survives a restart.
        await server.stop()
        #expect(try await SQLiteStore(directory: server.directory).readMarks(memberID: alice.identity.userID).values.sorted() == [5])
        let restarted = try await TestServer.start(directory: server.directory)
        let again = try await restarted.connect()
        _ = try await again.login(alice.identity, communityKey: alice.welcome.communityKey)
        #expect(try self.entry(self.general, in: try await again.readState()).lastRead == 5)
        await restarted.stopAndRemove()
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
        let bob = try await server.member("bob")
        for text in ["a", "b", "c"] { try await bob.connection.sendMessage(text, to: self.general) }
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
