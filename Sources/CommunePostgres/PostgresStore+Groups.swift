import CommuneCore
import CommuneProtocol
import PostgresNIO

/// Groups. A new database holds ``Group/defaults`` (the "v4-default-groups" migration, ``PostgresSchema``).
extension PostgresStore: GroupStore {
    public func groups() async throws -> [Group] {
        try await self.rows("SELECT name, permissions, power FROM groups ORDER BY power DESC, name") { row in
            let (name, permissions, power) = try row.decode((String, String, Int64).self)
            return Group(name: name, permissions: StoredColumns.decodePermissions(permissions), power: power)
        }
    }

    public func saveGroup(_ group: Group) async throws {
        try await self.execute(
            """
            INSERT INTO groups (name, permissions, power) VALUES (\(group.name), \(StoredColumns.encode(permissions: group.permissions)), \(group.power))
            ON CONFLICT (name) DO UPDATE SET permissions = excluded.permissions, power = excluded.power
            """
        )
    }

    public func deleteGroup(_ name: String) async throws {
        try await self.execute("DELETE FROM groups WHERE name = \(name)")
    }
}
