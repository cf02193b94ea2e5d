import CommuneCore
import Logging
import PostgresNIO

/// The cluster's stream (``ClusterStream``) in the community's PostgreSQL database, beside the store.
///
/// Appends take the row lock of `cluster_stream` (whose `position` they advance) for the rest of their transaction,
/// so transactions that append commit one after the other, in position order: a reader never sees a later record
/// before an earlier one. Each append ends with `pg_notify('commune_stream', head)`, which PostgreSQL delivers at
/// commit, carrying only the head (far below NOTIFY's 8,000-byte limit whatever the records hold); a node that
/// misses notifications while its listening connection reconnects reads what it missed then, and polls anyway.
/// Who is online where is kept in `cluster_presence`, changed in the same transaction as the presence records,
/// so that a node starting reads it and the head in one snapshot.
public final class PostgresClusterStream: ClusterStream {
    /// The NOTIFY channel.
    static let channel = "commune_stream"
    let store: PostgresStore

    public init(store: PostgresStore) {
        self.store = store
    }

    var logger: Logger { self.store.logger }

    public func snapshot() async throws -> ClusterSnapshot {
        try await self.store.transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: self.logger)
            let head = try await PostgresStore.rows("SELECT stream_id, position FROM cluster_stream", on: connection, logger: self.logger) { row in
                try row.decode((String, Int64).self)
            }
            guard let (streamID, position) = head.first else { throw PostgresClusterStreamError.missingHead }
            var online: [String: Set<String>] = [:]
            let rows = try await PostgresStore.rows("SELECT node, member_id FROM cluster_presence", on: connection, logger: self.logger) { row in
                try row.decode((String, String).self)
            }
            for (node, member) in rows { online[member, default: []].insert(node) }
            return ClusterSnapshot(streamID: streamID, position: position, online: online)
        }
    }

    public func head() async throws -> Int64 {
        guard let position = try await self.store.rows("SELECT position FROM cluster_stream", { try $0.decode(Int64.self) }).first else {
            throw PostgresClusterStreamError.missingHead
        }
        return position
    }

    public func append(_ records: [ClusterRecord]) async throws {
        guard !records.isEmpty else { return }
        try await self.store.transaction { connection in
            try await Self.append(records, on: connection, logger: self.logger)
        }
    }

    /// Appends `records` inside the caller's transaction.
    static func append(_ records: [ClusterRecord], on connection: PostgresConnection, logger: Logger) async throws {
        let count = Int64(records.count)
        let heads = try await PostgresStore.rows(
            "UPDATE cluster_stream SET position = position + \(count) RETURNING position", on: connection, logger: logger
        ) { row in try row.decode(Int64.self) }
        guard let last = heads.first else { throw PostgresClusterStreamError.missingHead }
        let first = last - count + 1
        var positions: [Int64] = []
        var origins: [String] = []
        var kinds: [String] = []
        var members: [String] = []
        var bodies: [String] = []
        for (offset, record) in records.enumerated() {
            positions.append(first + Int64(offset))
            origins.append(record.origin)
            switch record.kind {
            case .event(let body):
                kinds.append("event")
                members.append("")
                bodies.append(body)
            case .presence(let member, let online):
                kinds.append(online ? "online" : "offline")
                members.append(member)
                bodies.append("")
                if online {
                    try await connection.query(
                        "INSERT INTO cluster_presence (node, member_id) VALUES (\(record.origin), \(member)) ON CONFLICT DO NOTHING", logger: logger
                    )
                } else {
                    try await connection.query(
                        "DELETE FROM cluster_presence WHERE node = \(record.origin) AND member_id = \(member)", logger: logger
                    )
                }
            }
        }
        try await connection.query(
            """
            INSERT INTO cluster_records (position, origin, kind, member_id, body)
            SELECT * FROM unnest(\(positions)::bigint[], \(origins)::text[], \(kinds)::text[], \(members)::text[], \(bodies)::text[])
            """,
            logger: logger
        )
        try await connection.query("SELECT pg_notify(\(Self.channel), \(String(last)))", logger: logger)
    }

    public func records(after position: Int64, limit: Int) async throws -> [ClusterRecord] {
        try await self.store.rows(
            """
            SELECT position, origin, kind, member_id, body, (extract(epoch FROM created_at) * 1000)::bigint FROM cluster_records
            WHERE position > \(position) ORDER BY position LIMIT \(Int64(limit))
            """
        ) { row in
            let (position, origin, kind, member, body, appendedAt) = try row.decode((Int64, String, String, String, String, Int64).self)
            let recordKind: ClusterRecord.Kind =
                switch kind {
                case "online": .presence(member: member, online: true)
                case "offline": .presence(member: member, online: false)
                default: .event(body)
                }
            return ClusterRecord(position: position, origin: origin, kind: recordKind, appendedAt: appendedAt)
        }
    }

    public func listen(_ notified: @escaping @Sendable () -> Void) async throws {
        try await self.store.client.withConnection { connection in
            try await connection.listen(on: Self.channel) { notifications in
                // Listening now: whatever committed before is read by the caller after this first call.
                notified()
                for try await _ in notifications { notified() }
            }
        }
    }

    public func heartbeat(node: String, timeout: Duration) async throws {
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        try await self.store.transaction { connection in
            try await connection.query(
                "INSERT INTO cluster_nodes (node, seen_at) VALUES (\(node), now()) ON CONFLICT (node) DO UPDATE SET seen_at = now()", logger: self.logger
            )
            let gone = try await PostgresStore.rows(
                "DELETE FROM cluster_nodes WHERE seen_at < now() - make_interval(secs => \(seconds)) RETURNING node", on: connection, logger: self.logger
            ) { row in try row.decode(String.self) }
            // Presence of nodes that never said they were alive (or were forgotten) goes too.
            let orphans = try await PostgresStore.rows(
                "SELECT DISTINCT node FROM cluster_presence WHERE node NOT IN (SELECT node FROM cluster_nodes)", on: connection, logger: self.logger
            ) { row in try row.decode(String.self) }
            for dead in Set(gone + orphans) {
                self.logger.warning("A node stopped answering; its members go offline", metadata: ["node": "\(dead)"])
                try await Self.forget(dead, on: connection, logger: self.logger)
            }
        }
    }

    public func leave(node: String) async throws {
        try await self.store.transaction { connection in
            try await connection.query("DELETE FROM cluster_nodes WHERE node = \(node)", logger: self.logger)
            try await Self.forget(node, on: connection, logger: self.logger)
        }
    }

    /// Appends the going offline of `node`'s members, as if it had said so.
    static func forget(_ node: String, on connection: PostgresConnection, logger: Logger) async throws {
        let members = try await PostgresStore.rows(
            "SELECT member_id FROM cluster_presence WHERE node = \(node) ORDER BY member_id", on: connection, logger: logger
        ) { row in try row.decode(String.self) }
        try await Self.append(
            members.map { ClusterRecord(origin: node, kind: .presence(member: $0, online: false)) }, on: connection, logger: logger
        )
    }

    public func prune(keeping keep: Int64) async throws -> Int {
        try await self.store.rows(
            """
            WITH gone AS (DELETE FROM cluster_records WHERE position <= (SELECT position FROM cluster_stream) - \(keep) RETURNING 1)
            SELECT count(*) FROM gone
            """
        ) { row in Int(try row.decode(Int64.self)) }.first ?? 0
    }
}

/// The cluster's stream cannot be used.
public enum PostgresClusterStreamError: Error, CustomStringConvertible {
    /// The `cluster_stream` row is gone: the database was changed by hand.
    case missingHead

    public var description: String {
        switch self {
        case .missingHead: "The database's cluster_stream row is missing: it was changed by hand; run a node once on a fresh database to compare."
        }
    }
}
