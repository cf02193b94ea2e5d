import CommuneCore
import Logging
import Testing

@testable import CommunePostgres

@Suite("PostgreSQL store: addresses and migrations")
struct PostgresStoreTests {
    @Test("database URLs in libpq's forms are understood, and bad ones refused with a reason")
    func addresses() throws {
        let tcp = try PostgresAddress(url: "postgres://commune:s%40cret@db.example.org:6543/chat?sslmode=require")
        #expect(tcp.username == "commune")
        #expect(tcp.password == "s@cret")
        #expect(tcp.host == "db.example.org")
        #expect(tcp.port == 6543)
        #expect(tcp.database == "chat")
        #expect(tcp.requireTLS)
        #expect(tcp.description == "postgres://commune@db.example.org:6543/chat")

        let socket = try PostgresAddress(url: "postgresql://commune@/commune?host=/run/postgresql")
        #expect(socket.socketFolder == "/run/postgresql")
        #expect(socket.host == nil)
        #expect(socket.port == 5432)
        #expect(!socket.requireTLS)

        #expect(throws: PostgresAddressError.self) { try PostgresAddress(url: "mysql://a@b/c") }
        #expect(throws: PostgresAddressError.self) { try PostgresAddress(url: "postgres://localhost/c") }
        #expect(throws: PostgresAddressError.self) { try PostgresAddress(url: "postgres://a@localhost/") }
        #expect(throws: PostgresAddressError.self) { try PostgresAddress(url: "postgres://a@localhost:99999/c") }
        #expect(throws: PostgresAddressError.self) { try PostgresAddress(url: "postgres://a@localhost/c?sslmode=sometimes") }
    }

    @Test("nodes starting together apply each migration once")
    func concurrentMigrations() async throws {
        let address = try await TestPostgres.freshDatabase()
        let names = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await PostgresStore.withStore(address, logger: TestPostgres.logger) { try await $0.appliedMigrations() }
                }
            }
            return try await group.reduce(into: [[String]]()) { $0.append($1) }
        }
        #expect(names.count == 4)
        for list in names { #expect(list == PostgresSchema.migrations.map(\.name)) }
    }
}
