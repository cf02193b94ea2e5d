import CommuneCore
import Logging
import PostgresNIO

/// The cluster's stream (``ClusterStream``) in the community's PostgreSQL database, beside the store.
///
/// Appends take the row lock of `cluster_stream` (whose `position` they advance) for the rest of their transaction,
/// so transactions that append commit one after the other, in position order: a reader never sees a later record
/// before an earlier one. An append is one statement (``append(_:on:logger:)``), which also sends notifications on
/// `commune_stream`, which PostgreSQL delivers at commit, in commit order: the records themselves, as many to a
/// notification as fit under NOTIFY's 8,000-byte limit (``payloads(_:)``), so that a listening node applies them
/// without reading them back; from the first record that does not fit, only the head, and the listeners read the
/// rest from `cluster_records`. A node
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

    /// Appends `records` inside the caller's transaction, in one statement: the stream's row taken and advanced, the
    /// records inserted, who is online changed (the last presence record of a member on a node wins) and the
    /// notifications sent (in the array's order, the order the listeners get them in). One statement rather than one
    /// per step: the row lock, which every node's appends wait for, is held for that statement and the commit only.
    static func append(_ records: [ClusterRecord], on connection: PostgresConnection, logger: Logger) async throws {
        let count = Int64(records.count)
        var origins: [String] = []
        var kinds: [String] = []
        var members: [String] = []
        var bodies: [String] = []
        var presence: [NodeMember: Bool] = [:]
        for record in records {
            origins.append(record.origin)
            let (kind, member, body) = Self.columns(of: record)
            kinds.append(kind)
            members.append(member)
            bodies.append(body)
            if case .presence(let member, let online) = record.kind { presence[NodeMember(node: record.origin, member: member)] = online }
        }
        let came = presence.filter(\.value).keys.sorted()
        let went = presence.filter { !$0.value }.keys.sorted()
        let statement = AppendRecords(
            count: count, origins: origins, kinds: kinds, members: members, bodies: bodies, came: came, went: went, payloads: Self.payloads(records)
        )
        var notified = 0
        for try await _ in try await connection.execute(statement, logger: logger) { notified += 1 }
        guard notified > 0 else { throw PostgresClusterStreamError.missingHead }
    }

    /// The statement of ``append(_:on:logger:)``, prepared once per connection. The transaction's start, as
    /// `created_at` records it, is the time the notifications carry; an empty payload stands for the notification of
    /// the head alone.
    struct AppendRecords: PostgresPreparedStatement {
        static let sql = """
            WITH head AS (
                UPDATE cluster_stream SET position = position + $1
                RETURNING position - $1 + 1 AS first, (extract(epoch FROM now()) * 1000)::bigint AS at
            ), appended AS (
                INSERT INTO cluster_records (position, origin, kind, member_id, body)
                SELECT head.first + r.i - 1, r.origin, r.kind, r.member_id, r.body
                FROM head, unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS r(origin, kind, member_id, body, i)
            ), came AS (
                INSERT INTO cluster_presence (node, member_id) SELECT * FROM unnest($6::text[], $7::text[]) ON CONFLICT DO NOTHING
            ), went AS (
                DELETE FROM cluster_presence WHERE (node, member_id) IN (SELECT * FROM unnest($8::text[], $9::text[]))
            )
            SELECT pg_notify(
                '\(PostgresClusterStream.channel)',
                CASE WHEN n.payload = '' THEN (head.first + $1 - 1)::text
                ELSE 'P' || head.first || E'\\t' || head.at || E'\\n' || n.payload END
            )
            FROM head, (SELECT payload, i FROM unnest($10::text[]) WITH ORDINALITY AS n(payload, i) ORDER BY i) AS n
            ORDER BY n.i
            """
        /// One row per notification sent.
        typealias Row = Bool

        var count: Int64
        var origins: [String]
        var kinds: [String]
        var members: [String]
        var bodies: [String]
        var came: [NodeMember]
        var went: [NodeMember]
        var payloads: [String]

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 10)
            bindings.append(self.count)
            bindings.append(self.origins)
            bindings.append(self.kinds)
            bindings.append(self.members)
            bindings.append(self.bodies)
            bindings.append(self.came.map(\.node))
            bindings.append(self.came.map(\.member))
            bindings.append(self.went.map(\.node))
            bindings.append(self.went.map(\.member))
            bindings.append(self.payloads)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { true }
    }

    /// A member on a node, for the changes of `cluster_presence`.
    struct NodeMember: Hashable, Comparable, Sendable {
        var node: String
        var member: String

        static func < (lhs: Self, rhs: Self) -> Bool { (lhs.node, lhs.member) < (rhs.node, rhs.member) }
    }

    /// The most bytes of a payload the append's statement adds in front of what ``payloads(_:)`` makes (`P`, the
    /// first position and the time, each at most 20 characters, a tab and a newline).
    static let payloadPrefixLimit = 48

    /// The notifications of an append of `records`, without what the statement adds in front of each (`P`, the
    /// append's first position, a tab, its time in Unix milliseconds, a newline): records, each a header line
    /// `OFFSET<TAB>KIND<TAB>ORIGIN<TAB>MEMBER<TAB>BODY-BYTES` (OFFSET from the first position) and the body's bytes, as
    /// many as fit in ``payloadLimit``; from the first record that fits in none, or once ``carryingPayloads`` are
    /// full, one empty payload: the statement sends the head alone instead, for the listeners to read the rest.
    static func payloads(_ records: [ClusterRecord]) -> [String] {
        let limit = Self.payloadLimit - Self.payloadPrefixLimit
        var payloads: [String] = []
        var current = ""
        for (offset, record) in records.enumerated() {
            let (kind, member, body) = Self.columns(of: record)
            let piece = "\(offset)\t\(kind)\t\(record.origin)\t\(member)\t\(body.utf8.count)\n\(body)"
            guard piece.utf8.count <= limit else {
                if !current.isEmpty { payloads.append(current) }
                return payloads + [""]
            }
            if !current.isEmpty, current.utf8.count + piece.utf8.count > limit {
                payloads.append(current)
                current = ""
                if payloads.count == Self.carryingPayloads { return payloads + [""] }
            }
            current += piece
        }
        if !current.isEmpty { payloads.append(current) }
        return payloads
    }

    /// The records a notification carries (``payloads(_:)``, behind `P`, the first position and the time), or `nil`
    /// when it carries the head alone or cannot be read: the listener reads the table then.
    static func records(inPayload payload: String) -> [ClusterRecord]? {
        var payload = payload
        return payload.withUTF8 { Self.records(inPayload: $0) }
    }

    private static func records(inPayload bytes: UnsafeBufferPointer<UInt8>) -> [ClusterRecord]? {
        guard bytes.first == UInt8(ascii: "P") else { return nil }
        var reader = PayloadFields(bytes: bytes, at: 1)
        guard let first = reader.integer(until: UInt8(ascii: "\t")), let appendedAt = reader.integer(until: UInt8(ascii: "\n")) else { return nil }
        var records: [ClusterRecord] = []
        // Bounded: each record takes at least a header line.
        for _ in 0..<Self.payloadLimit where !reader.atEnd {
            guard let offset = reader.integer(until: UInt8(ascii: "\t")), let kind = reader.text(until: UInt8(ascii: "\t")),
                let origin = reader.text(until: UInt8(ascii: "\t")), let member = reader.text(until: UInt8(ascii: "\t")),
                let length = reader.integer(until: UInt8(ascii: "\n")), let body = reader.text(count: Int(length))
            else { return nil }
            records.append(
                ClusterRecord(position: first + offset, origin: origin, kind: Self.kind(kind, member: member, body: body), appendedAt: appendedAt)
            )
        }
        return reader.atEnd ? records : nil
    }

    /// Reads a notification's fields, each up to a separator, or a body of a given length.
    private struct PayloadFields {
        let bytes: UnsafeBufferPointer<UInt8>
        var at: Int

        var atEnd: Bool { self.at >= self.bytes.count }

        mutating func text(until separator: UInt8) -> String? {
            guard let end = self.bytes[self.at...].firstIndex(of: separator) else { return nil }
            defer { self.at = end + 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: self.bytes[self.at..<end]), as: UTF8.self)
        }

        mutating func text(count: Int) -> String? {
            guard count >= 0, count <= self.bytes.count - self.at else { return nil }
            defer { self.at += count }
            return String(decoding: UnsafeBufferPointer(rebasing: self.bytes[self.at..<(self.at + count)]), as: UTF8.self)
        }

        /// A decimal number of at most 18 digits (a non-negative Int64).
        mutating func integer(until separator: UInt8) -> Int64? {
            var value: Int64 = 0
            var digits = 0
            while self.at < self.bytes.count, self.bytes[self.at] != separator {
                let digit = self.bytes[self.at] &- UInt8(ascii: "0")
                guard digit < 10, digits < 18 else { return nil }
                value = value * 10 + Int64(digit)
                digits += 1
                self.at += 1
            }
            guard digits > 0, self.at < self.bytes.count else { return nil }
            self.at += 1
            return value
        }
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

    /// Forgets the records older than the newest `keep`, oldest first, in batches of ``pruneBatch``, each its own
    /// statement with a pause between: a minute of records at a high rate (300,000 at 5,000/s) is not one long delete
    /// that takes a core and the WAL at once. At most ``pruneBatches`` batches a call; the rest goes at the next.
    public func prune(keeping keep: Int64) async throws -> Int {
        var gone = 0
        for _ in 0..<Self.pruneBatches {
            let batch = try await self.store.rows(
                """
                WITH gone AS (
                    DELETE FROM cluster_records
                    WHERE position <= least((SELECT position FROM cluster_stream) - \(keep), (SELECT min(position) FROM cluster_records) + \(Self.pruneBatch) - 1)
                    RETURNING 1
                )
                SELECT count(*) FROM gone
                """
            ) { row in Int(try row.decode(Int64.self)) }.first ?? 0
            gone += batch
            guard batch == Self.pruneBatch else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        return gone
    }

    /// The most records one statement of ``prune(keeping:)`` forgets.
    static let pruneBatch: Int = 5_000
    /// The most batches one call of ``prune(keeping:)`` runs.
    static let pruneBatches = 200
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
