import CommuneCore
import CommuneProtocol
import Testing

@testable import CommuneSQLite

/// Read marks held to one contract on every store (StoreKind): a mark only moves forward, marks are per member and channel,
/// and a channel's newest message id is its unread baseline.
@Suite("Read state store (SQLite, in-memory and PostgreSQL)")
struct ReadStateStoreTests {
    @Test("marks move forward only, per member and channel; newest ids per channel", arguments: StoreKind.allCases)
    func marks(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        let alice = UUIDString.random()
        let bob = UUIDString.random()
        for index in 0..<5 {
            _ = try await store.appendMessage(NewMessage(channelID: 1, senderID: bob, text: "m\(index)", sendTime: Int64(index)))
        }
        _ = try await store.appendMessage(NewMessage(channelID: 2, senderID: bob, text: "other", sendTime: 9))
        #expect(try await store.lastMessageIDs(channelIDs: [1, 2, 3, 1]) == [1: 5, 2: 1, 3: 0])
        #expect(try await store.readMarks(memberID: alice) == [:])

        try await store.saveReadMarks([ReadMark(memberID: alice, channelID: 1, messageID: 4), ReadMark(memberID: bob, channelID: 1, messageID: 2)])
        // Behind the stored mark: kept as it was; ahead in another channel: stored.
        try await store.saveReadMarks([ReadMark(memberID: alice, channelID: 1, messageID: 1), ReadMark(memberID: alice, channelID: 2, messageID: 1)])
        #expect(try await store.readMarks(memberID: alice) == [1: 4, 2: 1])
        #expect(try await store.readMarks(memberID: bob) == [1: 2])
        try await store.saveReadMarks([])
        try await store.saveReadMarks([ReadMark(memberID: bob, channelID: 1, messageID: 5)])
        #expect(try await store.readMarks(memberID: bob) == [1: 5])
    }
}
