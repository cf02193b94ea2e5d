import CommuneCore
import CommuneProtocol
import Foundation
import GRDB

/// The tree of interactables.
extension SQLiteStore {
    public func interactables() async throws -> [Interactable] {
        try await self.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, parent_id, name, codec, position, properties FROM interactables").map(Self.interactable)
        }
    }

    public func createInteractables(_ nodes: [NewInteractable]) async throws -> [Interactable] {
        try await self.pool.write { db in
            try nodes.map { node in
                try db.execute(
                    sql: "INSERT INTO interactables (parent_id, name, codec, position, properties) VALUES (?, ?, ?, ?, ?)",
                    arguments: [node.parentID, node.name, node.codec, node.position, StoredColumns.encode(properties: node.properties)]
                )
                return Interactable(
                    id: db.lastInsertedRowID, parentID: node.parentID, name: node.name, codec: node.codec, position: node.position,
                    properties: node.properties
                )
            }
        }
    }

    public func updateInteractables(_ nodes: [Interactable]) async throws {
        try await self.pool.write { db in
            // Park moved names first so that swapping two siblings' names never trips the unique index.
            for node in nodes {
                try db.execute(
                    sql: "UPDATE interactables SET name = ? WHERE id = ?", arguments: ["/moving/\(node.id)", node.id]
                )
            }
            for node in nodes {
                try db.execute(
                    sql: "UPDATE interactables SET name = ?, parent_id = ?, position = ? WHERE id = ?",
                    arguments: [node.name, node.parentID, node.position, node.id]
                )
            }
        }
    }

    /// Deletes the nodes, their descendants (the foreign key's cascade) and everything kept per channel for each:
    /// messages, the mentions index, reactions, pins and members' read marks, as the other stores do.
    public func deleteInteractables(_ ids: [Int64]) async throws {
        try await self.pool.write { db in
            var doomed = Set(ids)
            var parents = ids
            while !parents.isEmpty {
                let marks = Array(repeating: "?", count: parents.count).joined(separator: ", ")
                parents = try Int64.fetchAll(
                    db, sql: "SELECT id FROM interactables WHERE parent_id IN (\(marks))", arguments: StatementArguments(parents)
                ).filter { doomed.insert($0).inserted }
            }
            for id in doomed.sorted() {
                for table in Self.perChannelTables {
                    try db.execute(sql: "DELETE FROM \(table) WHERE channel_id = ?", arguments: [id])
                }
                try db.execute(sql: "DELETE FROM interactables WHERE id = ?", arguments: [id])
            }
        }
    }

    /// The tables that keep rows per channel (`channel_id`), emptied for a channel that is deleted.
    static let perChannelTables = ["messages", "mentions", "reactions", "pins", "read_marks"]

    static func interactable(_ row: Row) -> Interactable {
        Interactable(
            id: row["id"], parentID: row["parent_id"], name: row["name"], codec: row["codec"], position: row["position"],
            properties: StoredColumns.decodeProperties(row["properties"])
        )
    }

    public func setProperties(_ properties: [String: String], of interactable: Int64) async throws {
        try await self.pool.write { db in
            try db.execute(
                sql: "UPDATE interactables SET properties = ? WHERE id = ?", arguments: [StoredColumns.encode(properties: properties), interactable]
            )
        }
    }
}
