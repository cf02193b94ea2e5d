import CommuneCore
import CommuneProtocol
import Foundation
import Logging
import PostgresNIO
import Testing

@testable import CommunePostgres

@Suite("PostgreSQL store: addresses and migrations")
struct PostgresStoreTests {
    @Test("database URLs in libpq's forms are understood, and bad ones refused with a reason")
    func addresses() throws {
        let tcp = try PostgresAddress(url: "postgres://commune:s%40cret@db.example.org:6543/chat?sslmode=require")
        #expect(tcp.username == "commune")
        #expect(tcp.password == "s@cret")
        #expect(tcp.host == "db.example.org")
        #expect(tcp.port == 6543)
        #expect(tcp.database == "chat")
        #expect(tcp.requireTLS)
        #expect(tcp.description == "postgres://commune@db.example.org:6543/chat")

        let socket = try PostgresAddress(url: "postgresql://commune@/commune?host=/run/postgresql")
        #expect(socket.socketFolder == "/run/postgresql")
        #expect(socket.host == nil)
        #expect(socket.port == 5432)
        #expect(!socket.requireTLS)

        #expect(throws: PostgresAddressError.self) { try PostgresAddress(url: "mysql://a@b/c") }
        #expect(throws: PostgresAddressError.self) { try PostgresAddress(url: "postgres://localhost/c") }
        #expect(throws: PostgresAddressError.self) { try PostgresAddress(url: "postgres://a@localhost/") }
        #expect(throws: PostgresAddressError.self) { try PostgresAddress(url: "postgres://a@localhost:99999/c") }
        #expect(throws: PostgresAddressError.self) { try PostgresAddress(url: "postgres://a@localhost/c?sslmode=sometimes") }
    }

    @Test("a test run drops the test databases earlier runs left, not one in use nor one just made")
    func leftoverTestDatabases() async throws {
        let cluster = try PostgresAddress(url: try #require(TestPostgres.clusterURL))
        let tag = UUIDString.random().value.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
        let (old, legacy, inUse) = ("commune_test_1000_\(tag)", "commune_test_legacy\(tag)", "commune_test_1001_\(tag)")
        let recent = try await TestPostgres.freshDatabase().database
        func databases() async throws -> Set<String> {
            try await TestPostgres.withCluster(cluster) { client in
                var names = Set<String>()
                for try await name in try await client.query("SELECT datname FROM pg_database", logger: TestPostgres.logger).decode(String.self) {
                    names.insert(name)
                }
                return names
            }
        }
        try await TestPostgres.withCluster(cluster) { client in
            for name in [old, legacy, inUse] { try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: TestPostgres.logger) }
        }
        var busy = cluster
        busy.database = inUse
        let dropped = try await TestPostgres.withCluster(busy) { client in
            // A connection to `inUse` stays open in the pool while this runs.
            try await client.query("SELECT 1", logger: TestPostgres.logger)
            return try await TestPostgres.dropLeftoverDatabases(olderThan: TestPostgres.leftoverAge, on: cluster)
        }
        #expect(dropped.contains(old) && dropped.contains(legacy))
        #expect(!dropped.contains(inUse) && !dropped.contains(recent))
        let left = try await databases()
        #expect(!left.contains(old) && !left.contains(legacy) && left.contains(inUse) && left.contains(recent))
        // Once no one uses it (the closed connection's backend may take a moment to leave), the old one goes too.
        var later = try await TestPostgres.dropLeftoverDatabases(olderThan: TestPostgres.leftoverAge, on: cluster)
        for _ in 0..<50 where !later.contains(inUse) {
            try await Task.sleep(for: .milliseconds(100))
            later = try await TestPostgres.dropLeftoverDatabases(olderThan: TestPostgres.leftoverAge, on: cluster)
        }
        #expect(later.contains(inUse))
        try await TestPostgres.withCluster(cluster) { client in
            try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(recent)"), logger: TestPostgres.logger)
        }
    }

    @Test("nodes starting together apply each migration once")
    func concurrentMigrations() async throws {
        let address = try await TestPostgres.freshDatabase()
        let names = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await PostgresStore.withStore(address, logger: TestPostgres.logger) { try await $0.appliedMigrations() }
                }
            }
            return try await group.reduce(into: [[String]]()) { $0.append($1) }
        }
        #expect(names.count == 4)
        for list in names { #expect(list == PostgresSchema.migrations.map(\.name)) }
    }

    @Test("v8's search words (one regular expression) are v2's (translate) for every ASCII punctuation character and hostile text")
    func searchTextPattern() async throws {
        let address = try await TestPostgres.freshDatabase()
        let punctuation = (33...126).map { Character(UnicodeScalar(UInt8($0))) }.filter { $0.isPunctuation || $0.isSymbol }
        let texts =
            punctuation.map { "left\($0)right \($0)\($0)x\($0)" } + [
                String(punctuation), "bob@example.com x.org/path?q=1&r=[2]", "a\\b\\\\c ]] [[ -- ^^", "Ünïcödé — “quotes” ‘x’ 👩‍👩‍👧 e\u{301}",
                "bidi \u{202E}evil\u{202C} zero\u{200B}width tab\tline\nend", "",
            ]
        #expect(punctuation.count == 32)
        let same = try await PostgresStore.withStore(address, logger: TestPostgres.logger) { store in
            try await store.rows(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT to_tsvector('commune_search', \(PostgresSchema.searchText("body")))::text = to_tsvector('commune_search', \(PostgresSchema.translatedSearchText("body")))::text,
                            body, to_tsvector('commune_search', \(PostgresSchema.searchText("body")))::text
                        FROM unnest($1::text[]) AS x (body)
                        """,
                    binds: { var binds = PostgresBindings(); binds.append(texts); return binds }()
                )
            ) { row in try row.decode((Bool, String, String).self) }
        }
        #expect(same.count == texts.count)
        for (equal, body, words) in same { #expect(equal, "\(body): \(words)") }
    }
}
