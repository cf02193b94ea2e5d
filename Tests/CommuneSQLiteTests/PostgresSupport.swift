import CommuneCore
import CommunePostgres
import Foundation
import Logging
import PostgresNIO
import Testing

/// The private PostgreSQL cluster the test command starts (`scripts/test-postgres`), and a fresh database on it for
/// each test that needs one.
enum TestPostgres {
    /// The cluster's URL, from `COMMUNE_TEST_POSTGRES_URL` (set by `scripts/test`).
    static var clusterURL: String? { ProcessInfo.processInfo.environment["COMMUNE_TEST_POSTGRES_URL"] }

    static let logger = Logger(label: "commune.test.postgres")

    /// Creates an empty database of its own on the test cluster and returns its address.
    static func freshDatabase() async throws -> PostgresAddress {
        guard let url = self.clusterURL else {
            throw TestPostgresError(
                "COMMUNE_TEST_POSTGRES_URL is not set: run the tests with scripts/test, or start a cluster with "
                    + "`scripts/test-postgres start DIR` and export the URL it prints."
            )
        }
        let cluster = try PostgresAddress(url: url)
        let name = "commune_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16))"
        let client = PostgresClient(configuration: cluster.testConfiguration, backgroundLogger: self.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: self.logger)
        }
        var address = cluster
        address.database = name
        return address
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
