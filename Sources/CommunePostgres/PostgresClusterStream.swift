import CommuneCore
import Logging
import PostgresNIO

/// The cluster's stream (``ClusterStream``) in the community's PostgreSQL database, beside the store.
///
/// Appends take the row lock of `cluster_stream` (whose `position` they advance) for the rest of their transaction,
/// so transactions that append commit one after the other, in position order: a reader never sees a later record
/// before an earlier one. Each append ends with notifications on `commune_stream`, which PostgreSQL delivers at
/// commit, in commit order: the records themselves, as many to a notification as fit under NOTIFY's 8,000-byte
/// limit (``payloads(_:head:)``), so that a listening node applies them without reading them back; from
/// the first record that does not fit, only the head, and the listeners read the rest from `cluster_records`. A node
/// that misses notifications while its listening connection reconnects reads what it missed then, and polls anyway.
/// Who is online where is kept in `cluster_presence`, changed in the same transaction as the presence records,
/// so that a node starting reads it and the head in one snapshot.
public final class PostgresClusterStream: ClusterStream {
    /// The NOTIFY channel.
    static let channel = "commune_stream"
    /// The most bytes one notification's payload holds (PostgreSQL refuses 8,000 and more).
    static let payloadLimit = 7_900
    /// The most notifications that carry records in one append (about 64 KiB, the 8 pages of PostgreSQL's
    /// notification queue kept in memory): a larger append's other records are read from the table.
    static let carryingPayloads = 8
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
        // The transaction's start, as `created_at` records it, for the records the notifications carry.
        let heads = try await PostgresStore.rows(
            "UPDATE cluster_stream SET position = position + \(count) RETURNING position, (extract(epoch FROM now()) * 1000)::bigint",
            on: connection, logger: logger
        ) { row in try row.decode((Int64, Int64).self) }
        guard let (last, appendedAt) = heads.first else { throw PostgresClusterStreamError.missingHead }
        let first = last - count + 1
        var positions: [Int64] = []
        var origins: [String] = []
        var kinds: [String] = []
        var members: [String] = []
        var bodies: [String] = []
        for (offset, record) in records.enumerated() {
            positions.append(first + Int64(offset))
            origins.append(record.origin)
            let (kind, member, body) = Self.columns(of: record)
            kinds.append(kind)
            members.append(member)
            bodies.append(body)
            if case .presence(let member, let online) = record.kind {
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
        let positioned = records.enumerated().map { offset, record in
            ClusterRecord(position: first + Int64(offset), origin: record.origin, kind: record.kind, appendedAt: appendedAt)
        }
        // One statement, the notifications in the array's order (the order the listeners get them in).
        try await connection.query(
            """
            SELECT pg_notify(\(Self.channel), payload)
            FROM (SELECT payload FROM unnest(\(Self.payloads(positioned, head: last))::text[]) WITH ORDINALITY AS n(payload, i) ORDER BY i) AS ordered
            """,
            logger: logger
        )
    }

    /// The notifications of an append of `records` (positioned) that leaves the stream at `head`: each `R` followed
    /// by records, each a header line `POSITION<TAB>KIND<TAB>ORIGIN<TAB>MEMBER<TAB>APPENDED-AT<TAB>BODY-BYTES` and
    /// the body's bytes, as many as fit in ``payloadLimit``; from the first record that fits in none, or once
    /// ``carryingPayloads`` are full, one notification of the head alone, in decimal, for the listeners to read the rest.
    static func payloads(_ records: [ClusterRecord], head: Int64) -> [String] {
        var payloads: [String] = []
        var current = ""
        for record in records {
            let (kind, member, body) = Self.columns(of: record)
            let piece = "\(record.position)\t\(kind)\t\(record.origin)\t\(member)\t\(record.appendedAt ?? 0)\t\(body.utf8.count)\n\(body)"
            guard 1 + piece.utf8.count <= Self.payloadLimit else {
                if !current.isEmpty { payloads.append(current) }
                return payloads + [String(head)]
            }
            if !current.isEmpty, current.utf8.count + piece.utf8.count > Self.payloadLimit {
                payloads.append(current)
                current = ""
                if payloads.count == Self.carryingPayloads { return payloads + [String(head)] }
            }
            if current.isEmpty { current = "R" }
            current += piece
        }
        if !current.isEmpty { payloads.append(current) }
        return payloads
    }

    /// The records a notification carries (``payloads(_:head:)``), or `nil` when it carries the head alone or
    /// cannot be read: the listener reads the table then.
    static func records(inPayload payload: String) -> [ClusterRecord]? {
        guard payload.hasPrefix("R") else { return nil }
        var rest = payload.utf8.dropFirst()
        var records: [ClusterRecord] = []
        // Bounded: each record takes at least a header line.
        for _ in 0..<Self.payloadLimit where !rest.isEmpty {
            guard let newline = rest.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            let fields = rest[..<newline].split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            guard fields.count == 6, let position = Int64(fields[0]), let appendedAt = Int64(fields[4]), let length = Int(fields[5]), length >= 0 else {
                return nil
            }
            let start = rest.index(after: newline)
            guard let end = rest.index(start, offsetBy: length, limitedBy: rest.endIndex) else { return nil }
            let body = String(decoding: rest[start..<end], as: UTF8.self)
            records.append(
                ClusterRecord(position: position, origin: fields[2], kind: Self.kind(fields[1], member: fields[3], body: body), appendedAt: appendedAt)
            )
            rest = rest[end...]
        }
        return rest.isEmpty ? records : nil
    }

    /// A record's `kind`, `member_id` and `body` columns.
    private static func columns(of record: ClusterRecord) -> (kind: String, member: String, body: String) {
        switch record.kind {
        case .event(let body): ("event", "", body)
        case .presence(let member, let online): (online ? "online" : "offline", member, "")
        }
    }

    /// A record's kind from its columns.
    private static func kind(_ kind: String, member: String, body: String) -> ClusterRecord.Kind {
        switch kind {
        case "online": .presence(member: member, online: true)
        case "offline": .presence(member: member, online: false)
        default: .event(body)
        }
    }

    public func records(after position: Int64, limit: Int) async throws -> [ClusterRecord] {
        try await self.store.rows(
            """
            SELECT position, origin, kind, member_id, body, (extract(epoch FROM created_at) * 1000)::bigint FROM cluster_records
            WHERE position > \(position) ORDER BY position LIMIT \(Int64(limit))
            """
        ) { row in
            let (position, origin, kind, member, body, appendedAt) = try row.decode((Int64, String, String, String, String, Int64).self)
            return ClusterRecord(position: position, origin: origin, kind: Self.kind(kind, member: member, body: body), appendedAt: appendedAt)
        }
    }

    public func listen(_ notified: @escaping @Sendable ([ClusterRecord]?) -> Void) async throws {
        try await self.store.client.withConnection { connection in
            try await connection.listen(on: Self.channel) { notifications in
                // Listening now: whatever committed before is read by the caller after this first call.
                notified(nil)
                for try await notification in notifications { notified(Self.records(inPayload: notification.payload)) }
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
