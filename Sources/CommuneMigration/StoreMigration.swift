import CommunePostgres
import CommuneSQLite
import Foundation
import GRDB
import Logging
import NIOCore
import PostgresNIO

/// Copies a whole community from the SQLite store in a data folder to an empty PostgreSQL database
/// (`commune migrate-store`).
///
/// The SQLite file is read, never written, in one read transaction (a WAL snapshot), so a server may keep running on
/// it: the copy is the community as it was when the copy began. The database's schema is brought up to date with the
/// PostgreSQL store's own migrations, then every table is copied with COPY (batches of ``batchSize`` rows streamed
/// into one COPY per table) in one transaction, whose row counts are compared with the snapshot's before it commits:
/// a copy that fails or does not match leaves the database as it was (its schema migrated).
///
/// Not copied: the SQLite store's search index (PostgreSQL computes its own from each message), and HTTP session
/// tokens (the SQLite store keeps none; members log in again). Attachments' files stay in the data folder.
public struct StoreMigration: Sendable {
    /// The data folder holding `commune.sqlite`.
    public let source: URL
    /// The destination, its pool running.
    public let destination: PostgresStore
    /// Rows per batch read from SQLite and sent to PostgreSQL.
    public var batchSize = 2_000

    public init(source: URL, destination: PostgresStore) {
        self.source = source
        self.destination = destination
    }

    /// How far the copy is: `done` of `total` rows of `table`.
    public struct Progress: Sendable, Hashable {
        public var table: String
        public var done: Int
        public var total: Int
    }

    /// One table's rows in the SQLite file and in the database after the copy.
    public struct Count: Sendable, Hashable {
        public var table: String
        public var source: Int
        public var destination: Int
        public var matches: Bool { self.source == self.destination }
    }

    /// Copies the community; `progress` is called after each batch. Returns the counts, table by table (all matching;
    /// a mismatch throws ``StoreMigrationError/countMismatch(_:)`` and nothing is committed).
    public func run(progress: (Progress) -> Void = { _ in }) async throws -> [Count] {
        let snapshot = try self.openSource()
        let sourceCounts = try await snapshot.read { db in
            try Dictionary(uniqueKeysWithValues: Self.tables.map { table in
                (table.name, try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table.name)") ?? 0)
            })
        }
        let channels = try await snapshot.read { db in try Int.fetchOne(db, sql: "SELECT count(DISTINCT channel_id) FROM messages") ?? 0 }
        try await self.refuseNonEmptyDestination(locking: false)
        try await self.destination.migrate()
        return try await self.destination.withBulkTransaction { connection, logger in
            try await connection.query("SET LOCAL client_encoding = 'UTF8'", logger: logger)
            try await self.refuseNonEmptyDestination(connection: connection, logger: logger, locking: true)
            // What a server may have written on a database without members: its community key, default tree, owner
            // invite. The SQLite community replaces it.
            let all = (Self.tables.map(\.name) + ["channel_heads", "sessions"]).joined(separator: ", ")
            try await connection.query(PostgresQuery(unsafeSQL: "TRUNCATE \(all)"), logger: logger)
            for table in Self.tables {
                try await self.copy(table, total: sourceCounts[table.name] ?? 0, from: snapshot, to: connection, logger: logger, progress: progress)
            }
            try await Self.finish(connection: connection, logger: logger)
            var counts: [Count] = []
            for table in Self.tables {
                let copied = try await Self.count(table.name, connection: connection, logger: logger)
                counts.append(Count(table: table.name, source: sourceCounts[table.name] ?? 0, destination: copied))
            }
            let heads = try await Self.count("channel_heads", connection: connection, logger: logger)
            counts.append(Count(table: "channel_heads", source: channels, destination: heads))
            guard counts.allSatisfy(\.matches) else { throw StoreMigrationError.countMismatch(counts) }
            try await connection.query("ANALYZE", logger: logger)
            return counts
        }
    }

    /// The SQLite file, read-only, as one consistent snapshot; refused when missing or of another schema version.
    func openSource() throws -> DatabaseSnapshot {
        guard SQLiteStore.exists(in: self.source) else { throw StoreMigrationError.noSource(self.source.path) }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        let path = self.source.appendingPathComponent(SQLiteStore.fileName).path
        let snapshot: DatabaseSnapshot
        do {
            snapshot = try DatabasePool(path: path, configuration: configuration).makeSnapshot()
        } catch {
            throw StoreMigrationError.unreadableSource(path, "\(error)")
        }
        let applied = try snapshot.read { db -> [String] in
            guard try db.tableExists("grdb_migrations") else { return [] }
            return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        }
        let known = SQLiteStore.migrationNames
        if !Set(applied).isSubset(of: known) {
            throw StoreMigrationError.sourceSchema(path, "it was written by a newer commune; migrate with that version")
        }
        if applied.count < known.count {
            throw StoreMigrationError.sourceSchema(
                path, "it was written by an older commune; start `commune serve --data \(self.source.path)` once with this version (it updates the file), stop it, then migrate"
            )
        }
        return snapshot
    }

    /// Throws ``StoreMigrationError/destinationNotEmpty(place:members:messages:)`` when the database holds members
    /// or messages; `locking` holds both tables until the transaction ends, so that no server adds any meanwhile.
    func refuseNonEmptyDestination(locking: Bool) async throws {
        try await self.destination.withBulkTransaction { connection, logger in
            try await self.refuseNonEmptyDestination(connection: connection, logger: logger, locking: locking)
        }
    }

    private func refuseNonEmptyDestination(connection: PostgresConnection, logger: Logger, locking: Bool) async throws {
        let rows = try await connection.query(
            "SELECT to_regclass('members') IS NOT NULL AND to_regclass('messages') IS NOT NULL", logger: logger
        )
        var exists = false
        for try await value in rows.decode(Bool.self) { exists = value }
        guard exists else { return }
        if locking {
            try await connection.query("LOCK TABLE members, messages IN SHARE ROW EXCLUSIVE MODE", logger: logger)
        }
        let members = try await Self.count("members", connection: connection, logger: logger)
        let messages = try await Self.count("messages", connection: connection, logger: logger)
        if members > 0 || messages > 0 {
            throw StoreMigrationError.destinationNotEmpty(place: self.destination.address.description, members: members, messages: messages)
        }
    }

    private static func count(_ table: String, connection: PostgresConnection, logger: Logger) async throws -> Int {
        var count: Int64 = 0
        for try await value in try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), logger: logger).decode(Int64.self) {
            count = value
        }
        return Int(count)
    }

    /// Copies `table` in batches, each read from the snapshot after the previous batch's last key, into one COPY.
    private func copy(
        _ table: Table, total: Int, from snapshot: DatabaseSnapshot, to connection: PostgresConnection, logger: Logger,
        progress: (Progress) -> Void
    ) async throws {
        progress(Progress(table: table.name, done: 0, total: total))
        guard total > 0 else { return }
        let batchSize = self.batchSize
        try await connection.copyFrom(table: table.name, columns: table.columns.map(\.name), logger: logger) { writer in
            var done = 0
            var after: [DatabaseValue]? = nil
            // Bounded: each batch moves past its last key; the snapshot does not change, so at most total/batch + 1.
            for _ in 0...(total / batchSize + 1) {
                let start = after
                let batch = try await snapshot.read { db in try table.batch(db, after: start, limit: batchSize) }
                guard batch.rows > 0 else { break }
                try await writer.write(batch.data)
                done += batch.rows
                after = batch.lastKey
                progress(Progress(table: table.name, done: done, total: total))
            }
        }
    }

    /// What the copied rows imply: each channel's head at its newest message (new sends continue after it), and the
    /// identity sequences past the copied ids.
    private static func finish(connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            "INSERT INTO channel_heads (channel_id, last_message_id) SELECT channel_id, max(message_id) FROM messages GROUP BY channel_id",
            logger: logger
        )
        for table in ["interactables", "audit_log"] {
            try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT setval(pg_get_serial_sequence('\(table)', 'id'), coalesce(max(id), 0) + 1, false) FROM \(table)"),
                logger: logger
            )
        }
    }
}

/// Why a migration did not happen, in the sentence the operator sees.
public enum StoreMigrationError: Error, Sendable, CustomStringConvertible {
    case noSource(String)
    case unreadableSource(String, String)
    case sourceSchema(String, String)
    case destinationNotEmpty(place: String, members: Int, messages: Int)
    case countMismatch([StoreMigration.Count])
    case unexpectedValue(table: String, column: String, value: String)

    private static func counted(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }

    public var description: String {
        switch self {
        case .noSource(let path):
            return "No community in \(path): there is no \(SQLiteStore.fileName) there (give --from the data folder of `commune serve --data`)."
        case .unreadableSource(let path, let error):
            return "Cannot read \(path): \(error)"
        case .sourceSchema(let path, let reason):
            return "Cannot copy \(path): \(reason)."
        case .destinationNotEmpty(let place, let members, let messages):
            return "The database \(place) already holds a community (\(Self.counted(members, "member")), \(Self.counted(messages, "message"))); migrate-store copies into an empty database only. Nothing was changed."
        case .countMismatch(let counts):
            let wrong = counts.filter { !$0.matches }.map { "\($0.table): \($0.source) in SQLite, \($0.destination) copied" }
            return "The copy does not match (\(wrong.joined(separator: "; "))); it was rolled back, nothing was changed."
        case .unexpectedValue(let table, let column, let value):
            return "Cannot copy \(table).\(column): the SQLite file holds \(value.prefix(100)) there, which is not of the column's type; nothing was changed."
        }
    }
}
