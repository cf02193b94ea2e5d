import CommuneCore
import CommuneProtocol
import Foundation
import GRDB

/// The community's settings.
extension SQLiteStore {
    public func settings() async throws -> [String: String] {
        try await self.pool.read { db in
            var result: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key, value FROM settings") {
                result[row["key"]] = row["value"]
            }
            return result
        }
    }

    public func setSettingIfAbsent(_ key: String, _ value: String) async throws -> String {
        try await self.pool.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)", arguments: [key, value])
            return try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key]) ?? value
        }
    }

    public func setSetting(_ key: String, _ value: String) async throws {
        try await self.pool.write { db in
            try db.execute(
                sql: "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [key, value]
            )
        }
    }
}
