import CommuneCore
import CommuneProtocol
import Foundation
import GRDB
import PostgresNIO
import Testing

@testable import CommunePostgres
@testable import CommuneSQLite

/// A fresh data folder under the system's temporary directory, removed when the test ends.
struct TemporaryDirectory: ~Copyable {
    let url: URL

    init() throws {
        self.url = FileManager.default.temporaryDirectory.appendingPathComponent("commune-test-\(UUIDString.random().value)")
        try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: self.url)
    }
}

/// The stores held to one contract: each test runs on the SQLite store (a real file), on the in-memory store the
/// domain tests use, so that a domain test's store behaves like the one users run, and on the PostgreSQL store (a
/// fresh database on the test cluster, `COMMUNE_TEST_POSTGRES_URL`).
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case memory
    case postgres

    var testDescription: String { self.rawValue }
}

/// A store of one kind with what it needs, let go when the test ends: the folder that holds it (SQLite, removed),
/// the task running its connection pool (PostgreSQL, cancelled).
final class StoreFixture: Sendable {
    let store: any CommunityStore
    private let directory: URL?
    private let pool: Task<Void, Never>?

    private init(store: any CommunityStore, directory: URL? = nil, pool: Task<Void, Never>? = nil) {
        self.store = store
        self.directory = directory
        self.pool = pool
    }

    /// A new, empty store of `kind` (for PostgreSQL a database of its own, migrated) that reports its message
    /// commits to `metrics`.
    static func make(_ kind: StoreKind, metrics: StoreMetrics = .disabled) async throws -> StoreFixture {
        switch kind {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("commune-test-\(UUIDString.random().value)")
            return StoreFixture(store: try SQLiteStore(directory: directory, metrics: metrics), directory: directory)
        case .memory:
            return StoreFixture(store: InMemoryStore(metrics: metrics))
        case .postgres:
            let store = PostgresStore(address: try await TestPostgres.freshDatabase(), metrics: metrics, logger: TestPostgres.logger)
            let pool = Task { await store.run() }
            do {
                try await store.migrate()
            } catch {
                pool.cancel()
                throw error
            }
            return StoreFixture(store: store, pool: pool)
        }
    }

    deinit {
        self.pool?.cancel()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// Runs one SQL statement on the store's database (SQLite and PostgreSQL only).
    func execute(_ sql: String) async throws {
        switch self.store {
        case let sqlite as SQLiteStore: try await sqlite.pool.write { try $0.execute(sql: sql) }
        case let postgres as PostgresStore: try await postgres.client.query(PostgresQuery(unsafeSQL: sql), logger: TestPostgres.logger)
        default: throw TestPostgresError("\(type(of: self.store)) has no SQL")
        }
    }

    /// The mentions index of `channels` as "user channel message" (user "" for everyone): the `mentions` table's rows
    /// in SQLite and PostgreSQL; in memory, where mentions are read from the messages, what the stored messages mention.
    func mentionIndex(channels: [Int64]) async throws -> Set<String> {
        let query = "SELECT user_id || ' ' || channel_id || ' ' || message_id FROM mentions WHERE channel_id IN (\(channels.map(String.init).joined(separator: ", ")))"
        switch self.store {
        case let sqlite as SQLiteStore:
            return Set(try await sqlite.pool.read { try String.fetchAll($0, sql: query) })
        case let postgres as PostgresStore:
            var rows = Set<String>()
            for try await row in try await postgres.client.query(PostgresQuery(unsafeSQL: query), logger: TestPostgres.logger).decode(String.self) {
                rows.insert(row)
            }
            return rows
        default:
            var rows = Set<String>()
            for channel in channels {
                for message in try await self.store.messages(channelID: channel, before: nil, skip: 0, limit: 1_000) {
                    for user in message.mentions.map(\.value) + (message.mentionsEveryone ? [""] : []) {
                        rows.insert("\(user) \(channel) \(message.messageID)")
                    }
                }
            }
            return rows
        }
    }
}
