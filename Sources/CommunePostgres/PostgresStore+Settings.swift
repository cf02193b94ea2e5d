import CommuneCore
import CommuneProtocol
import PostgresNIO

/// The community's settings.
extension PostgresStore: SettingsStore {
    public func settings() async throws -> [String: String] {
        let rows = try await self.rows("SELECT key, value FROM settings") { try $0.decode((String, String).self) }
        return Dictionary(rows, uniquingKeysWith: { first, _ in first })
    }

    public func setSettingIfAbsent(_ key: String, _ value: String) async throws -> String {
        // Two statements, so that the second sees a value another node committed while the first waited on its row.
        try await self.transaction { connection in
            try await connection.query(
                "INSERT INTO settings (key, value) VALUES (\(key), \(value)) ON CONFLICT (key) DO NOTHING", logger: self.logger
            )
            let stored = try await Self.rows("SELECT value FROM settings WHERE key = \(key)", on: connection, logger: self.logger) {
                try $0.decode(String.self)
            }
            return stored.first ?? value
        }
    }

    public func setSetting(_ key: String, _ value: String) async throws {
        try await self.execute(
            "INSERT INTO settings (key, value) VALUES (\(key), \(value)) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )
    }
}
