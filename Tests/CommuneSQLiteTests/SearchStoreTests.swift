import CommuneCore
import CommuneProtocol
import Foundation
import GRDB
import Testing

@testable import CommuneSQLite

/// Search held to one contract on every store (StoreKind): words found whole, case and accents aside, newest first and paged;
/// only in the channels asked for; by the current text of a message, never a removed one's.
@Suite("Search store contract (SQLite, in-memory and PostgreSQL)")
struct SearchStoreTests {
    func search(
        _ store: any CommunityStore, _ text: String, in channels: Set<Int64> = [1, 2], author: UUIDString? = nil, before: Int64? = nil,
        after: Int64? = nil, cursor: String? = nil, limit: Int = 10
    ) async throws -> [SearchHit] {
        let query = try SearchQuery(text)
        return try await store.searchMessages(
            MessageSearch(query: query, channelIDs: channels, author: author, before: before, after: after, cursor: cursor, limit: limit)
        )
    }

    func texts(_ hits: [SearchHit]) -> [String] { hits.map(\.message.text) }

    @Test("whole words, every word, case and accents aside, newest first, only in the channels asked", arguments: StoreKind.allCases)
    func finds(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        let alice = UUIDString.random()
        let bob = UUIDString.random()
        let lines: [(Int64, UUIDString, String)] = [
            (1, alice, "The deploy is done"), (1, bob, "deployment tomorrow"), (2, bob, "DEPLOY again? Café time"),
            (1, alice, "lunch at the café"), (3, alice, "deploy in a channel nobody asked for"),
        ]
        for (index, (channel, sender, text)) in lines.enumerated() {
            _ = try await store.appendMessage(NewMessage(channelID: channel, senderID: sender, text: text, sendTime: Int64(100 + index)))
        }
        #expect(self.texts(try await self.search(store, "deploy")) == ["DEPLOY again? Café time", "The deploy is done"])
        #expect(self.texts(try await self.search(store, "CAFE")) == ["lunch at the café", "DEPLOY again? Café time"])
        #expect(self.texts(try await self.search(store, "café deploy")) == ["DEPLOY again? Café time"])
        #expect(try await self.search(store, "deploy tomorrow").isEmpty)
        #expect(self.texts(try await self.search(store, "deploy", in: [1])) == ["The deploy is done"])
        #expect(self.texts(try await self.search(store, "deploy", in: [3])) == ["deploy in a channel nobody asked for"])
        #expect(try await self.search(store, "deploy", in: []).isEmpty)
        #expect(self.texts(try await self.search(store, "deploy", author: alice)) == ["The deploy is done"])
        #expect(self.texts(try await self.search(store, "deploy", before: 102)) == ["The deploy is done"])
        #expect(self.texts(try await self.search(store, "deploy", after: 101)) == ["DEPLOY again? Café time"])
        let hit = try #require(try await self.search(store, "lunch").first)
        #expect(hit.message.channelID == 1 && hit.message.messageID == 3 && hit.message.senderID == alice && hit.message.sendTime == 103)
    }

    @Test("pages follow the cursor to the end without repeats; a made-up cursor is refused", arguments: StoreKind.allCases)
    func paging(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        let sender = UUIDString.random()
        for index in 1...23 {
            _ = try await store.appendMessage(NewMessage(channelID: Int64(1 + index % 2), senderID: sender, text: "word \(index)", sendTime: Int64(index)))
        }
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await self.search(store, "word", cursor: cursor, limit: 10)
            seen += self.texts(page)
            cursor = page.count == 10 ? page.last?.cursor : nil
            pages += 1
        } while cursor != nil && pages < 10
        #expect(pages == 3)
        #expect(seen == (1...23).reversed().map { "word \($0)" })
        await #expect(throws: SearchCursorError.self) { _ = try await self.search(store, "word", cursor: "abc") }
        await #expect(throws: SearchCursorError.self) { _ = try await self.search(store, "word", cursor: "-5") }
    }

    @Test("an edited message is found by its new text only; removed, vengeance-masked and deleted-channel messages never", arguments: StoreKind.allCases)
    func keptInStep(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        try await store.createInvite(Invite(code: "in", group: "member", usesLeft: 2, expiresAt: nil, createdAt: 0))
        let key = [UInt8](repeating: 5, count: 32)
        let mallory = try await store.registerMember(Member(id: .random(), username: "mallory", publicKey: key, group: "x", joinedAt: 1), inviteCode: "in", now: 1)
        let alice = UUIDString.random()
        let channels = try await store.createInteractables([
            NewInteractable(parentID: nil, name: "a", codec: "text", position: 0), NewInteractable(parentID: nil, name: "b", codec: "text", position: 1),
        ])
        let (first, second) = (channels[0].id, channels[1].id)
        let all: Set<Int64> = [first, second]
        _ = try await store.appendMessage(NewMessage(channelID: first, senderID: alice, text: "typo teh", sendTime: 1))
        _ = try await store.appendMessage(NewMessage(channelID: first, senderID: alice, text: "secret plans", sendTime: 2))
        _ = try await store.appendMessage(NewMessage(channelID: first, senderID: mallory.id, text: "spam spam", sendTime: 3))
        _ = try await store.appendMessage(NewMessage(channelID: second, senderID: alice, text: "doomed channel", sendTime: 4))
        try await store.updateMessage(channelID: first, messageID: 1, text: "typo fixed", senderID: alice, mentions: [], everyone: false)
        #expect(try await self.search(store, "teh", in: all).isEmpty)
        #expect(self.texts(try await self.search(store, "fixed", in: all)) == ["typo fixed"])
        #expect(self.texts(try await self.search(store, "typo", in: all)) == ["typo fixed"])
        try await store.updateMessage(channelID: first, messageID: 2, text: TextFunction.removedText, senderID: nil, mentions: [], everyone: false)
        #expect(try await self.search(store, "secret", in: all).isEmpty)
        #expect(try await self.search(store, "message removed", in: all).isEmpty)
        _ = try await store.removeMember(mallory.id, ban: nil, vengeance: true)
        #expect(try await self.search(store, "spam", in: all).isEmpty)
        #expect(self.texts(try await self.search(store, "doomed", in: all)) == ["doomed channel"])
        try await store.deleteInteractables([second])
        #expect(try await self.search(store, "doomed", in: all).isEmpty)
        // A new message in a channel made later with the old id is found; the old one's words are gone.
        _ = try await store.appendMessage(NewMessage(channelID: first, senderID: alice, text: "after all that", sendTime: 5))
        #expect(self.texts(try await self.search(store, "after", in: all)) == ["after all that"])
    }

    @Test("query syntax is searched as words: quotes, stars, NEAR, colons and brackets are never operators", arguments: StoreKind.allCases)
    func syntaxIsText(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        let sender = UUIDString.random()
        for (index, text) in ["meet NEAR the station", "body:hello (world)", "a \"quoted\" word*", "OR AND NOT"].enumerated() {
            _ = try await store.appendMessage(NewMessage(channelID: 1, senderID: sender, text: text, sendTime: Int64(index)))
        }
        #expect(self.texts(try await self.search(store, "NEAR(")) == ["meet NEAR the station"])
        #expect(self.texts(try await self.search(store, "body:hello")) == ["body:hello (world)"])
        #expect(self.texts(try await self.search(store, "(world")) == ["body:hello (world)"])
        #expect(self.texts(try await self.search(store, "\"quoted\" word*")) == ["a \"quoted\" word*"])
        #expect(self.texts(try await self.search(store, "or not")) == ["OR AND NOT"])
        #expect(try await self.search(store, "wor*").isEmpty)
        #expect(try await self.search(store, "body:world^ NEAR/2").isEmpty)
    }

    @Test("SQLite: an author filter gives the same pages whether it starts from the author's messages or from the matches")
    func authorBothWays() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(directory: directory.url)
        let (alice, bob) = (UUIDString.random(), UUIDString.random())
        for index in 1...60 {
            let sender = index % 3 == 0 ? alice : bob
            let text = index % 2 == 0 ? "common word \(index)" : "other \(index)"
            _ = try await store.appendMessage(NewMessage(channelID: Int64(1 + index % 2), senderID: sender, text: text, sendTime: Int64(index)))
        }
        // Alice's "common" messages: multiples of 6, newest first.
        let expected = stride(from: 60, through: 6, by: -6).map { "common word \($0)" }
        for limit in [0, SQLiteStore.authorFirstLimit] {
            var seen: [String] = []
            var cursor: String?
            for _ in 0..<10 {
                let page = try await store.searchMessages(
                    MessageSearch(query: try SearchQuery("common"), channelIDs: [1, 2, 3], author: alice, cursor: cursor, limit: 4),
                    authorFirstLimit: limit
                )
                seen += self.texts(page)
                guard page.count == 4 else { break }
                cursor = page.last?.cursor
            }
            #expect(seen == expected, "authorFirstLimit \(limit)")
            let dated = try await store.searchMessages(
                MessageSearch(query: try SearchQuery("word"), channelIDs: [1], author: alice, before: 50, after: 20, limit: 10), authorFirstLimit: limit
            )
            #expect(self.texts(dated) == ["common word 48", "common word 42", "common word 36", "common word 30", "common word 24"], "authorFirstLimit \(limit)")
            let nobody = try await store.searchMessages(
                MessageSearch(query: try SearchQuery("common"), channelIDs: [1, 2], author: .random(), limit: 10), authorFirstLimit: limit
            )
            #expect(nobody.isEmpty)
        }
    }

    @Test("SQLite: messages stored before the search index are found once the migration has run, removed ones not")
    func migration() async throws {
        let directory = try TemporaryDirectory()
        let names = SQLiteStore.migrator.migrations
        let mine = try #require(names.firstIndex(of: "v7-message-search"))
        let sender = UUIDString.random()
        do {
            let queue = try DatabaseQueue(path: directory.url.appendingPathComponent(SQLiteStore.fileName).path)
            try SQLiteStore.migrator.migrate(queue, upTo: names[mine - 1])
            try await queue.write { db in
                for (id, body, senderID) in [(1, "older words", sender.value), (2, "removed words", nil), (3, "newer words", sender.value)] {
                    try db.execute(
                        sql: "INSERT INTO messages (channel_id, message_id, sender_id, body, send_time) VALUES (7, ?, ?, ?, ?)",
                        arguments: [id, senderID, body, id]
                    )
                }
            }
            try queue.close()
        }
        let store = try SQLiteStore(directory: directory.url)
        #expect(self.texts(try await self.search(store, "words", in: [7])) == ["newer words", "older words"])
        #expect(try await self.search(store, "removed", in: [7]).isEmpty)
        _ = try await store.appendMessage(NewMessage(channelID: 7, senderID: sender, text: "newest words", sendTime: 9))
        #expect(self.texts(try await self.search(store, "words", in: [7], limit: 1)) == ["newest words"])
    }
}
