import CommuneCore
import CommunePostgres
import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing

/// The private PostgreSQL cluster the test command starts (`scripts/test-postgres`), and a fresh database on it for
/// each test that needs one.
enum TestPostgres {
    /// The cluster's URL, from `COMMUNE_TEST_POSTGRES_URL` (set by `scripts/test`).
    static var clusterURL: String? { ProcessInfo.processInfo.environment["COMMUNE_TEST_POSTGRES_URL"] }

    static let logger = Logger(label: "commune.test.postgres")

    /// Test databases are named `commune_test_<seconds since 1970>_<random>`: the time says which ones an earlier run
    /// left (``dropLeftoverDatabases(olderThan:on:)``).
    static let databasePrefix = "commune_test_"

    /// Whether this process has swept the cluster of earlier runs' databases (once, before its first database).
    private static let swept = Mutex(false)

    /// Creates an empty database of its own on the test cluster and returns its address. The first call of a run
    /// first drops the databases earlier runs left, so that a developer's cluster does not grow with every run.
    static func freshDatabase() async throws -> PostgresAddress {
        guard let url = self.clusterURL else {
            throw TestPostgresError(
                "COMMUNE_TEST_POSTGRES_URL is not set: run the tests with scripts/test, or start a cluster with "
                    + "`scripts/test-postgres start DIR` and export the URL it prints."
            )
        }
        let cluster = try PostgresAddress(url: url)
        let seconds = Int64(Date().timeIntervalSince1970)
        let name = "\(self.databasePrefix)\(seconds)_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16))"
        let sweep = self.swept.withLock { swept in
            defer { swept = true }
            return !swept
        }
        if sweep { _ = try await self.dropLeftoverDatabases(olderThan: self.leftoverAge, on: cluster) }
        try await self.withCluster(cluster) { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: self.logger)
        }
        var address = cluster
        address.database = name
        return address
    }

    /// How old an unused test database must be to count as left by an earlier run: older than any run's use of one
    /// (a database is used by one test, for seconds), so that runs sharing a cluster never drop each other's.
    static let leftoverAge: Duration = .seconds(600)

    /// Drops the test databases on `cluster` that no one is connected to and that were made more than `age` ago (or
    /// whose name carries no time: made before names did), and returns their names. A database someone connects to
    /// meanwhile stays (its drop fails and is skipped).
    static func dropLeftoverDatabases(olderThan age: Duration, on cluster: PostgresAddress) async throws -> [String] {
        let cutoff = Int64(Date().timeIntervalSince1970) - age.components.seconds
        return try await self.withCluster(cluster) { client in
            var unused: [String] = []
            let rows = try await client.query(
                """
                SELECT datname FROM pg_database
                WHERE starts_with(datname, \(self.databasePrefix))
                    AND datname NOT IN (SELECT datname FROM pg_stat_activity WHERE datname IS NOT NULL)
                ORDER BY datname
                """,
                logger: self.logger
            )
            for try await name in rows.decode(String.self) { unused.append(name) }
            var dropped: [String] = []
            for name in unused {
                let made = Int64(name.dropFirst(self.databasePrefix.count).prefix { $0 != "_" })
                // Only names this code could have made go into the statement.
                guard made.map({ $0 < cutoff }) ?? true, name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) else {
                    continue
                }
                do {
                    try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name)"), logger: self.logger)
                    dropped.append(name)
                } catch {
                    self.logger.debug("Left test database \(name) in place: \(String(reflecting: error))")
                }
            }
            return dropped
        }
    }

    /// Runs `body` with a client of the database the cluster's URL names.
    @discardableResult
    static func withCluster<Result: Sendable>(
        _ cluster: PostgresAddress, _ body: (PostgresClient) async throws -> Result
    ) async throws -> Result {
        let client = PostgresClient(configuration: cluster.testConfiguration, backgroundLogger: self.logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}

struct TestPostgresError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension PostgresAddress {
    /// The client configuration for the test cluster's own administrative connection.
    var testConfiguration: PostgresClient.Configuration {
        guard let folder = self.socketFolder else {
            return PostgresClient.Configuration(host: self.host ?? "localhost", port: self.port, username: self.username, password: self.password, database: self.database, tls: .disable)
        }
        return PostgresClient.Configuration(unixSocketPath: "\(folder)/.s.PGSQL.\(self.port)", username: self.username, password: self.password, database: self.database)
    }
}
