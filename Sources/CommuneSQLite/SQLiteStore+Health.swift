import CommuneCore
import GRDB

/// The readiness check's read.
extension SQLiteStore {
    /// Reads a row of `settings` from the database file through the pool's readers (in WAL mode a reader never waits
    /// for the writer), so that a missing, unreadable or corrupt file fails here.
    public func ping() async throws {
        _ = try await self.pool.read { db in try Int.fetchOne(db, sql: "SELECT 1 FROM settings LIMIT 1") }
    }
}
