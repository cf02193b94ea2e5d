import CommuneCore
import CommuneProtocol
import Foundation
import GRDB

/// Groups.
extension SQLiteStore {
    public func groups() async throws -> [Group] {
        try await self.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT name, permissions, power FROM groups ORDER BY power DESC, name").map { row in
                Group(name: row["name"], permissions: StoredColumns.decodePermissions(row["permissions"]), power: row["power"])
            }
        }
    }

    public func saveGroup(_ group: Group) async throws {
        try await self.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO groups (name, permissions, power) VALUES (?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET permissions = excluded.permissions, power = excluded.power
                    """,
                arguments: [group.name, StoredColumns.encode(permissions: group.permissions), group.power]
            )
        }
    }

    public func deleteGroup(_ name: String) async throws {
        try await self.pool.write { db in
            try db.execute(sql: "DELETE FROM groups WHERE name = ?", arguments: [name])
        }
    }
}
