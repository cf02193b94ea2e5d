import CommuneClient
import CommuneCore
import CommuneProtocol
import Testing

/// Replies over real connections: the preview of the original in the reply's live update and in history, and the
/// refusals (another channel's or community's message, a missing or removed one) that store nothing.
@Suite("Replies")
struct ReplyTests {
    let general = ChannelAddress(path: "General", name: "General")
    let rules = ChannelAddress(path: "", name: "Rules")

    @Test("a reply carries the original's author and first line live and in history; a removed original shows as removed")
    func replyPreview() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")
        let long = String(repeating: "é", count: 150)
        let original = try await alice.connection.sendMessage("  \n\(long)\nsecond line", to: self.general)
        _ = try await bob.events.nextUpdate(TextFunction.messageLive)
        let reply = try await bob.connection.sendMessage("agreed", to: self.general, kind: .text, replyTo: original.messageID)
        let live = try ChatMessage(json: try await alice.events.nextUpdate(TextFunction.messageLive).payload)
        let preview = try #require(live.replyTo)
        #expect(preview.messageID == original.messageID && preview.senderID == alice.identity.userID && preview.senderName == "alice")
        #expect(preview.text == String(repeating: "é", count: ReplyPreview.maxLength) + "…" && !preview.removed)
        let history = try await alice.connection.messages(in: self.general)
        #expect(history.first { $0.messageID == reply.messageID }?.replyTo == preview)
        #expect(history.first { $0.messageID == original.messageID }?.replyTo == nil)

        // The original removed: the reply's preview says so, with nothing of what it was.
        _ = try await alice.connection.call(TextFunction.removeMessage, on: self.general, payload: ["message_id": .int(original.messageID)])
        let after = try await bob.connection.messages(in: self.general)
        let removed = try #require(after.first { $0.messageID == reply.messageID }?.replyTo)
        #expect(removed == ReplyPreview(messageID: original.messageID, senderID: nil, senderName: "", text: "", removed: true))
        await server.stopAndRemove()
    }

    @Test("replying to another channel's message, a missing, removed or malformed one is refused and stores nothing")
    func refusals() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let gone = try await alice.connection.sendMessage("soon gone", to: self.general)
        _ = try await alice.connection.call(TextFunction.removeMessage, on: self.general, payload: ["message_id": .int(gone.messageID)])
        // Rules' message 1 exists; General has no message 5: a number copied from another channel names nothing here.
        for _ in 0..<5 { try await alice.connection.sendMessage("in rules", to: self.rules) }
        let before = try await alice.connection.messages(in: self.general)
        await expectError(.notFound) { try await alice.connection.sendMessage("to rules", to: self.general, kind: .text, replyTo: 5) }
        await expectError(.notFound) { try await alice.connection.sendMessage("removed", to: self.general, kind: .text, replyTo: gone.messageID) }
        await expectError(.invalidArgument) { try await alice.connection.sendMessage("zero", to: self.general, kind: .text, replyTo: 0) }
        await expectError(.invalidArgument) {
            _ = try await alice.connection.call(TextFunction.sendMessage, on: self.general, payload: ["message": "x", "reply_to": "1"])
        }
        // Another community's message: its number means nothing on this server.
        let other = try await TestServer.start()
        let carol = try await other.member("carol")
        var there: (messageID: Int64, sendTime: Int64) = (0, 0)
        for _ in 0..<3 { there = try await carol.connection.sendMessage("elsewhere", to: self.general) }
        await expectError(.notFound) {
            try await alice.connection.sendMessage("far", to: self.general, kind: .text, replyTo: there.messageID)
        }
        #expect(try await alice.connection.messages(in: self.general) == before)
        #expect(try await alice.connection.messages(in: self.rules).count == 5)
        // A resend with the same number must name the same original.
        try await alice.connection.sendMessage("x", to: self.rules, kind: .text, number: 9, replyTo: 1)
        await expectError(.invalidArgument) { try await alice.connection.sendMessage("x", to: self.rules, kind: .text, number: 9, replyTo: 2) }
        await other.stopAndRemove()
        await server.stopAndRemove()
    }
}
