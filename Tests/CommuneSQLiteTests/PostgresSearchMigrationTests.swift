import CommuneCore
import CommuneProtocol
import Foundation
import PostgresNIO
import Testing

@testable import CommunePostgres

/// Migration `v8-search-text-pattern` on a database an earlier release filled: it makes the generated search column
/// again, so every message already stored must be found by its words as on a database that never had v2's column.
@Suite("PostgreSQL store: v8's search words on an upgraded database")
struct PostgresSearchMigrationTests {
    static let channel: Int64 = 7

    /// Texts heavy in ASCII punctuation (each of the 32 characters v2 and v8 turn into spaces appears), with the
    /// words each must be found by; without a sender: a removed message, found by nothing.
    static let messages: [(text: String, sender: Bool, words: [String])] = [
        ("deploy-failed: see https://ci.example.org/job/42?x=1&y=[2]", true, ["deploy", "failed", "ci", "example", "org", "job", "42"]),
        ("bob@example.com (re: *urgent*) ok?!", true, ["bob", "com", "urgent", "ok"]),
        ("snake_case_word & kebab-case-word; C++/C# vs. Obj-C", true, ["snake", "case", "word", "kebab", "obj"]),
        ("||spoiler|| `code` ~~strike~~ **bold** > quote {braces} <angle>", true, ["spoiler", "code", "strike", "bold", "quote", "braces", "angle"]),
        ("3.14159!!! a.b.c...d??? 100% $5 ^caret^ \"quoted\" 'single' it's back\\slash", true, ["14159", "100", "5", "caret", "quoted", "single", "slash"]),
        ("Café—“naïve” ÜBER,über;über:über", true, ["cafe", "naive", "uber"]),
        ("removed: secret-word", false, []),
    ]

    /// Stores the messages as rows (channel 7, numbered from 1), the way any release's store leaves them.
    func insertMessages(into store: PostgresStore, sender: UUIDString) async throws {
        let rows = Self.messages.enumerated().map { index, message in
            (Int64(index + 1), message.sender ? sender.value : "", message.text, Int64(1_000 + index))
        }
        var binds = PostgresBindings()
        binds.append(rows.map(\.0))
        binds.append(rows.map(\.1))
        binds.append(rows.map(\.2))
        binds.append(rows.map(\.3))
        _ = try await store.rows(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO messages (channel_id, message_id, sender_id, body, send_time)
                    SELECT \(Self.channel), id, nullif(sender, ''), body, time
                    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[]) AS x (id, sender, body, time)
                    """,
                binds: binds
            )
        ) { _ in () }
        _ = try await store.rows("INSERT INTO channel_heads (channel_id, last_message_id) VALUES (\(Self.channel), \(Int64(rows.count)))") { _ in () }
    }

    /// Each message's search words, by message id, as PostgreSQL prints them.
    func searchWords(in store: PostgresStore) async throws -> [String] {
        try await store.rows("SELECT search_words::text FROM messages WHERE channel_id = \(Self.channel) ORDER BY message_id") { row in
            try row.decode(String.self)
        }
    }

    /// The ids of the messages a search for `text` finds, newest first.
    func found(_ text: String, in store: PostgresStore) async throws -> [Int64] {
        try await store.searchMessages(MessageSearch(query: try SearchQuery(text), channelIDs: [Self.channel], limit: 50)).map(\.message.messageID)
    }

    /// Every word of every message, as a member might type it (split at what is neither a letter nor a digit).
    var everyWord: [String] {
        let words = Self.messages.flatMap { message in message.text.split { !$0.isLetter && !$0.isNumber }.map(String.init) }
        return Array(Set(words)).sorted()
    }

    @Test("messages stored before v8 keep their rows and are found by their words exactly as on a fresh database")
    func upgradedDatabase() async throws {
        let sender = UUIDString.random()
        let upgraded = PostgresStore(address: try await TestPostgres.freshDatabase(), logger: TestPostgres.logger)
        let fresh = PostgresStore(address: try await TestPostgres.freshDatabase(), logger: TestPostgres.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await upgraded.run() }
            group.addTask { await fresh.run() }
            defer { group.cancelAll() }

            // The database as the release before v8 left it, filled, with v2's search column.
            let names = PostgresSchema.migrations.map(\.name)
            let v8 = try #require(names.firstIndex(of: "v8-search-text-pattern"))
            try await upgraded.migrate(upTo: names[v8 - 1])
            #expect(try await upgraded.appliedMigrations() == Array(names.prefix(v8)))
            try await self.insertMessages(into: upgraded, sender: sender)
            let before = try await upgraded.messages(channelID: Self.channel, before: nil, skip: 0, limit: 100)
            #expect(before.count == Self.messages.count)
            #expect(try await self.found("kebab", in: upgraded) == [3])

            // A node of this release starts on it: v8 runs.
            try await upgraded.migrate()
            #expect(try await upgraded.appliedMigrations() == names)
            try await fresh.migrate()
            try await self.insertMessages(into: fresh, sender: sender)

            // The same rows, the same words as a database made by this release, and the index searches use.
            #expect(try await upgraded.messages(channelID: Self.channel, before: nil, skip: 0, limit: 100) == before)
            #expect(try await upgraded.rows("SELECT count(*) FROM messages") { try $0.decode(Int64.self) } == [Int64(Self.messages.count)])
            #expect(try await self.searchWords(in: upgraded) == self.searchWords(in: fresh))
            let indexes = try await upgraded.rows("SELECT indexdef FROM pg_indexes WHERE indexname = 'messages_search'") { try $0.decode(String.self) }
            #expect(indexes.count == 1 && indexes[0].contains("gin (search_words)"), "\(indexes)")

            for (index, message) in Self.messages.enumerated() {
                for word in message.words {
                    #expect(try await self.found(word, in: upgraded).contains(Int64(index + 1)), "'\(word)' in \(message.text)")
                }
            }
            for word in self.everyWord {
                #expect(try await self.found(word, in: upgraded) == self.found(word, in: fresh), "'\(word)'")
            }
            #expect(try await self.found("secret", in: upgraded).isEmpty)

            // What is stored after the upgrade is indexed by v8's column.
            let appended = try await upgraded.appendMessage(
                NewMessage(channelID: Self.channel, senderID: sender, text: "after-the/upgrade:snake_case", sendTime: 5_000)
            )
            #expect(appended.message.messageID == Int64(Self.messages.count + 1))
            #expect(try await self.found("snake case", in: upgraded) == [appended.message.messageID, 3])
        }
    }
}
