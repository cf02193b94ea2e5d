import CommuneCore
import PostgresNIO

/// The readiness check's read.
extension PostgresStore: StoreHealthCheck {
    /// `SELECT 1` through the connection pool: fails when no connection to the database can be had (the server is
    /// down, unreachable, or refuses this node), without touching a table or waiting for a writer's lock.
    public func ping() async throws {
        try await self.execute("SELECT 1")
    }
}
