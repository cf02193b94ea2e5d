import CommuneCore
import CommuneProtocol
import CommunePostgres
import Foundation
import Logging
import PostgresNIO
import Testing

/// An empty database of its own on the test cluster (`COMMUNE_TEST_POSTGRES_URL`, set by `scripts/test`), named as
/// CommuneSQLiteTests' `TestPostgres` names its own, `commune_test_<seconds since 1970>_<random>`, so that its sweep
/// of the databases earlier runs left takes these too.
func freshTestDatabase() async throws -> PostgresAddress {
    let url = try #require(
        ProcessInfo.processInfo.environment["COMMUNE_TEST_POSTGRES_URL"],
        "COMMUNE_TEST_POSTGRES_URL is not set: run the tests with scripts/test, or export the URL `scripts/test-postgres start DIR` prints"
    )
    var address = try PostgresAddress(url: url)
    let random = UUIDString.random().value.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
    let name = "commune_test_\(Int64(Date().timeIntervalSince1970))_\(random)"
    try await address.withClient(logger: TestServer.quiet) { client in
        try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: TestServer.quiet)
    }
    address.database = name
    return address
}
