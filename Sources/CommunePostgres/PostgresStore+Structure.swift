import CommuneCore
import CommuneProtocol
import PostgresNIO

/// The tree of interactables.
extension PostgresStore: StructureStore {
    public func interactables() async throws -> [Interactable] {
        try await self.rows("SELECT id, parent_id, name, codec, position, properties FROM interactables ORDER BY id") { row in
            let (id, parentID, name, codec, position, properties) = try row.decode((Int64, Int64?, String, String, Int64, String).self)
            return Interactable(
                id: id, parentID: parentID, name: name, codec: codec, position: position,
                properties: StoredColumns.decodeProperties(properties)
            )
        }
    }

    /// A sibling's name taken fails the whole call with PostgreSQL's unique violation, which the server reports as
    /// `internal_error` like the SQLite store's constraint error (it checks names in its tree before writing).
    public func createInteractables(_ nodes: [NewInteractable]) async throws -> [Interactable] {
        try await self.transaction { connection in
            var created: [Interactable] = []
            for node in nodes {
                let ids = try await Self.rows(
                    """
                    INSERT INTO interactables (parent_id, name, codec, position, properties)
                    VALUES (\(node.parentID), \(node.name), \(node.codec), \(node.position), \(StoredColumns.encode(properties: node.properties)))
                    RETURNING id
                    """,
                    on: connection, logger: self.logger
                ) { try $0.decode(Int64.self) }
                created.append(
                    Interactable(
                        id: ids[0], parentID: node.parentID, name: node.name, codec: node.codec, position: node.position,
                        properties: node.properties
                    )
                )
            }
            return created
        }
    }

    public func updateInteractables(_ nodes: [Interactable]) async throws {
        try await self.transaction { connection in
            // Park moved names first so that swapping two siblings' names never trips the unique index.
            for node in nodes {
                try await connection.query("UPDATE interactables SET name = \("/moving/\(node.id)") WHERE id = \(node.id)", logger: self.logger)
            }
            for node in nodes {
                try await connection.query(
                    "UPDATE interactables SET name = \(node.name), parent_id = \(node.parentID), position = \(node.position) WHERE id = \(node.id)",
                    logger: self.logger
                )
            }
        }
    }

    public func setProperties(_ properties: [String: String], of interactable: Int64) async throws {
        try await self.execute(
            "UPDATE interactables SET properties = \(StoredColumns.encode(properties: properties)) WHERE id = \(interactable)"
        )
    }

    /// Deletes the nodes, their descendants (the foreign key's cascade) and everything kept per channel for each:
    /// messages, the mentions index, reactions, pins, read marks and the channel's message counter.
    public func deleteInteractables(_ ids: [Int64]) async throws {
        try await self.transaction { connection in
            let doomed = try await Self.rows(
                """
                WITH RECURSIVE doomed (id) AS (
                    SELECT id FROM interactables WHERE id = ANY(\(ids))
                    UNION
                    SELECT child.id FROM interactables child JOIN doomed ON child.parent_id = doomed.id
                )
                SELECT id FROM doomed
                """,
                on: connection, logger: self.logger
            ) { try $0.decode(Int64.self) }
            // Ids no longer in the tree still lose what was kept for them, as the other stores do.
            let channels = Array(Set(doomed + ids)).sorted()
            for table in Self.perChannelTables {
                try await connection.query("DELETE FROM \(unescaped: table) WHERE channel_id = ANY(\(channels))", logger: self.logger)
            }
            try await connection.query("DELETE FROM interactables WHERE id = ANY(\(channels))", logger: self.logger)
        }
    }

    /// The tables that keep rows per channel (`channel_id`), emptied for a channel that is deleted.
    static let perChannelTables = ["messages", "mentions", "reactions", "pins", "read_marks", "channel_heads"]
}
