import CommuneCore
import CommuneProtocol
import Testing

@testable import CommuneSQLite

/// Mentions held to one contract on every store (StoreKind): a message keeps the ids it mentions and `@everyone`, and a member's
/// unread mentions per channel are counted from their read mark (not their own messages, not removed ones).
@Suite("Mention store (SQLite, in-memory and PostgreSQL)")
struct MentionStoreTests {
    @Test("mentions are kept with the message; counts from the mark; removal, vengeance and channel removal drop them", arguments: StoreKind.allCases)
    func mentions(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        let (alice, bob, carol) = (UUIDString.random(), UUIDString.random(), UUIDString.random())
        let nodes = try await store.createInteractables([
            NewInteractable(parentID: nil, name: "Chat", codec: "text", position: 0), NewInteractable(parentID: nil, name: "Other", codec: "text", position: 1),
        ])
        let (chat, other) = (nodes[0].id, nodes[1].id)
        func send(_ sender: UUIDString, _ mentions: [UUIDString], everyone: Bool = false, in channel: Int64? = nil) async throws -> Int64 {
            try await store.appendMessage(
                NewMessage(channelID: channel ?? chat, senderID: sender, text: "t", sendTime: 1, mentions: mentions, mentionsEveryone: everyone)
            ).message.messageID
        }
        _ = try await send(bob, [alice, carol])  // 1
        _ = try await send(bob, [])  // 2
        _ = try await send(carol, [alice], everyone: true)  // 3
        _ = try await send(alice, [alice], everyone: true)  // 4: her own
        _ = try await send(carol, [bob], in: other)
        let first = try #require(try await store.message(channelID: chat, messageID: 1))
        #expect(first.mentions == [alice, carol] && !first.mentionsEveryone)
        #expect(try await store.messages(channelID: chat, before: nil, skip: 0, limit: 10).map(\.mentionsEveryone) == [true, true, false, false])
        #expect(try await store.messages(channelID: chat, ids: [3]).first?.mentions == [alice])
        #expect(try await store.mentionCounts(memberID: alice, after: [chat: 0, other: 0]) == [chat: 2, other: 0])
        #expect(try await store.mentionCounts(memberID: alice, after: [chat: 1]) == [chat: 1])
        #expect(try await store.mentionCounts(memberID: bob, after: [chat: 0, other: 0]) == [chat: 2, other: 1])
        #expect(try await store.mentionCounts(memberID: carol, after: [chat: 0]) == [chat: 2])
        // An edit's mentions replace the message's, with its text.
        try await store.updateMessage(channelID: chat, messageID: 2, text: "now for alice", senderID: bob, mentions: [alice], everyone: false)
        let edited = try #require(try await store.message(channelID: chat, messageID: 2))
        #expect(edited.mentions == [alice] && edited.text == "now for alice" && edited.edited)
        #expect(try await store.mentionCounts(memberID: alice, after: [chat: 0]) == [chat: 3])
        try await store.updateMessage(channelID: chat, messageID: 2, text: "for nobody", senderID: bob, mentions: [], everyone: false)
        #expect(try await store.mentionCounts(memberID: alice, after: [chat: 0]) == [chat: 2])
        // A removed message mentions nobody.
        try await store.updateMessage(channelID: chat, messageID: 1, text: TextFunction.removedText, senderID: nil, mentions: [], everyone: false)
        #expect(try await store.message(channelID: chat, messageID: 1)?.mentions == [])
        #expect(try await store.mentionCounts(memberID: alice, after: [chat: 0]) == [chat: 1])
        // Vengeance masks carol's messages: their mentions go.
        _ = try await store.removeMember(carol, ban: nil, vengeance: true)
        #expect(try await store.message(channelID: chat, messageID: 3)?.mentionsEveryone == false)
        #expect(try await store.mentionCounts(memberID: alice, after: [chat: 0]) == [chat: 0])
        #expect(try await store.mentionCounts(memberID: bob, after: [chat: 0]) == [chat: 1])
        // A removed channel takes its mentions with it.
        _ = try await send(alice, [bob], in: other)
        try await store.deleteInteractables([other])
        #expect(try await store.mentionCounts(memberID: bob, after: [other: 0]) == [other: 0])
        #expect(try await store.groups().first { $0.name == "moderator" }?.permissions.contains(.mentionEveryone) == true)
    }
}
