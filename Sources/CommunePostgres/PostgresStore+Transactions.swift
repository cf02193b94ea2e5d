import CommuneCore
import Logging
import PostgresNIO

/// Transactions and statements with PostgreSQL's errors told as the store's: every concern's writes go through
/// ``transaction(_:)`` or ``execute(_:)`` so that a full disk is ``StoreError/storageFull`` and a ``StoreError``
/// thrown inside a transaction reaches the caller as itself (postgres-nio wraps it in a `PostgresTransactionError`).
extension PostgresStore {
    /// SQLSTATE codes the store tells apart (PostgreSQL's appendix A, "Error Codes").
    enum SQLState {
        /// `unique_violation`: a row's key (or a unique index's) is taken.
        static let uniqueViolation = "23505"
        /// `disk_full`: the database could not write for lack of space.
        static let diskFull = "53100"
    }

    /// Runs `body` in one transaction on a connection of the pool: committed when it returns, rolled back when it
    /// throws. Errors come out as ``storeError(_:)`` tells them.
    func transaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        do {
            return try await self.client.withTransaction(logger: self.logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            throw Self.storeError(error.closureError ?? error.commitError ?? error.beginError ?? error)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Runs one statement on its own (its own implicit transaction), its rows discarded.
    func execute(_ query: PostgresQuery) async throws {
        do {
            try await self.client.query(query, logger: self.logger)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Runs one statement on its own and decodes every row it returns with `decode`.
    func rows<Row: Sendable>(_ query: PostgresQuery, _ decode: (PostgresRow) throws -> Row) async throws -> [Row] {
        do {
            var result: [Row] = []
            for try await row in try await self.client.query(query, logger: self.logger) {
                result.append(try decode(row))
            }
            return result
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Runs one statement inside a transaction and decodes every row it returns with `decode`.
    static func rows<Row>(
        _ query: PostgresQuery, on connection: PostgresConnection, logger: Logger, _ decode: (PostgresRow) throws -> Row
    ) async throws -> [Row] {
        var result: [Row] = []
        for try await row in try await connection.query(query, logger: logger) {
            result.append(try decode(row))
        }
        return result
    }

    /// The error a caller of the store gets for `error`: a full disk is ``StoreError/storageFull`` (nothing was
    /// written); anything else is passed on as it is (a ``StoreError`` included), which the server reports as
    /// `internal_error`, as it does the SQLite store's constraint errors.
    static func storeError(_ error: any Error) -> any Error {
        if Self.sqlState(of: error) == SQLState.diskFull { return StoreError.storageFull }
        return error
    }

    /// The SQLSTATE of a PostgreSQL server error, or `nil` for any other error.
    static func sqlState(of error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }
}
