import Logging
import PostgresNIO

/// Whole-community writes the store protocols do not cover: `commune migrate-store` copies every table with COPY on
/// one connection, in one transaction.
extension PostgresStore {
    /// Runs `body` with a connection of the pool in one transaction: committed when `body` returns, rolled back (nothing
    /// written) when it throws.
    public func withBulkTransaction<Result: Sendable>(
        _ body: (PostgresConnection, Logger) async throws -> Result
    ) async throws -> Result {
        try await self.transaction { connection in try await body(connection, self.logger) }
    }
}

extension PostgresAddress {
    /// Runs `body` with a pool of connections to this database outside any store, for what a store does not do (such
    /// as `CREATE DATABASE`, which no transaction may hold); the pool stops when `body` returns.
    public func withClient<Result: Sendable>(logger: Logger, _ body: (PostgresClient) async throws -> Result) async throws -> Result {
        let client = PostgresClient(configuration: self.clientConfiguration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}
