import CommuneCore
import CommuneProtocol
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// The community store on PostgreSQL, for a community whose nodes share one database (`commune serve --database`).
///
/// The same store protocols as ``SQLiteStore``, over a pool of connections (postgres-nio's `PostgresClient`). The
/// pool works only while ``run()`` runs: the server runs the store as a service beside its others; tools and tests
/// use ``withStore(_:logger:_:)``. The schema is applied at start by ``migrate()`` (``PostgresSchema``), under an
/// advisory lock so that nodes starting together apply each migration once.
public final class PostgresStore: Sendable, Service {
    /// Where the database is, parsed from the `postgres://` URL the operator gave.
    public let address: PostgresAddress
    let client: PostgresClient
    let logger: Logger
    /// Appends go through one group commit per node (``PostgresStore/appendMessage(_:)``), with the records of the
    /// cluster's stream each new message brings (``PostgresStore/appendMessage(_:records:)``).
    let messageQueue = GroupCommit<PendingMessage, AppendedMessage>(maxBatch: 1_000)
    /// Where each group commit's duration and stored messages are reported (the server's `/metrics`).
    let metrics: StoreMetrics

    /// A store on the database at `address`; nothing is connected until ``run()`` runs. `metrics` receives each
    /// message commit's duration and count, as the SQLite store's does.
    public init(address: PostgresAddress, maximumConnections: Int = 20, metrics: StoreMetrics = .disabled, logger: Logger) {
        self.address = address
        self.metrics = metrics
        var configuration = address.clientConfiguration
        configuration.options.maximumConnections = maximumConnections
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
    }

    /// Runs the connection pool until the task is cancelled (ServiceLifecycle's graceful shutdown included).
    public func run() async {
        await cancelWhenGracefulShutdown {
            await self.client.run()
        }
    }

    /// Runs `body` with a migrated store whose pool runs for as long as `body` does.
    public static func withStore<Result: Sendable>(
        _ address: PostgresAddress, logger: Logger, _ body: (PostgresStore) async throws -> Result
    ) async throws -> Result {
        let store = PostgresStore(address: address, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            try await store.migrate()
            return try await body(store)
        }
    }

    /// Applies the schema's migrations that this database has not had yet, each in its own transaction, in order.
    /// Nodes starting at the same time wait for each other on an advisory lock.
    public func migrate() async throws {
        try await self.migrate(upTo: nil)
    }

    /// Applies the migrations up to and including the one named `last` (all of them: `nil`), as ``migrate()`` does:
    /// a test makes a database as an older release left it, then migrates it the rest of the way.
    func migrate(upTo last: String?) async throws {
        let count = last.map { name in
            guard let index = PostgresSchema.migrations.firstIndex(where: { $0.name == name }) else {
                preconditionFailure("No migration is named \(name)")
            }
            return index + 1
        } ?? PostgresSchema.migrations.count
        try await self.client.withTransaction(logger: self.logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLock))", logger: self.logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS commune_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                logger: self.logger
            )
            var applied = Set<String>()
            for try await name in try await connection.query("SELECT name FROM commune_migrations", logger: self.logger).decode(String.self) {
                applied.insert(name)
            }
            for migration in PostgresSchema.migrations.prefix(count) where !applied.contains(migration.name) {
                self.logger.info("Applying database migration \(migration.name)")
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                try await connection.query("INSERT INTO commune_migrations (name) VALUES (\(migration.name))", logger: self.logger)
            }
        }
    }

    /// The names of the migrations this database has had, in version order (``MigrationOrder``: `v10` after `v9`,
    /// whenever each was applied; a new database has them all with one time).
    public func appliedMigrations() async throws -> [String] {
        var names: [String] = []
        let rows = try await self.client.query("SELECT name FROM commune_migrations", logger: self.logger)
        for try await name in rows.decode(String.self) { names.append(name) }
        return MigrationOrder.sorted(names)
    }
}

/// A PostgreSQL database's address, from a URL in libpq's form: `postgres://user[:password]@host[:port]/database`,
/// or a Unix socket's folder as `postgres://user@/database?host=/run/postgresql` (the socket is
/// `.s.PGSQL.<port>` in that folder). TLS is used when the server offers it, or required with `sslmode=require`.
public struct PostgresAddress: Sendable, Hashable, CustomStringConvertible {
    public var username: String
    public var password: String?
    public var host: String?
    public var port: Int
    public var socketFolder: String?
    public var database: String
    public var requireTLS: Bool

    /// Parses `url`; the error says what is wrong with it.
    public init(url: String) throws(PostgresAddressError) {
        guard let schemeEnd = url.range(of: "://"),
            ["postgres", "postgresql"].contains(url[..<schemeEnd.lowerBound].lowercased())
        else {
            throw PostgresAddressError("A database URL starts with postgres:// (for example postgres://commune@localhost/commune).")
        }
        var rest = Substring(url[schemeEnd.upperBound...])
        var query: [String: String] = [:]
        if let mark = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: mark)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                query[Self.decode(parts[0])] = parts.count > 1 ? Self.decode(parts[1]) : ""
            }
            rest = rest[..<mark]
        }
        var userInfo: Substring = ""
        if let at = rest.lastIndex(of: "@") {
            userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
        }
        let hostPart: Substring
        if let slash = rest.firstIndex(of: "/") {
            hostPart = rest[..<slash]
            self.database = Self.decode(rest[rest.index(after: slash)...])
        } else {
            hostPart = rest
            self.database = ""
        }
        if let colon = userInfo.firstIndex(of: ":") {
            self.username = Self.decode(userInfo[..<colon])
            self.password = Self.decode(userInfo[userInfo.index(after: colon)...])
        } else {
            self.username = Self.decode(userInfo)
            self.password = query["password"]
        }
        if let user = query["user"] { self.username = user }
        if let name = query["dbname"] { self.database = name }
        guard !self.username.isEmpty else { throw PostgresAddressError("The database URL names no user (postgres://USER@host/database).") }
        guard !self.database.isEmpty else { throw PostgresAddressError("The database URL names no database (postgres://user@host/DATABASE).") }
        var port = 5432
        var host = String(hostPart)
        if let colon = hostPart.lastIndex(of: ":"), !hostPart.hasSuffix("]") {
            guard let number = Int(hostPart[hostPart.index(after: colon)...]), (1...65535).contains(number) else {
                throw PostgresAddressError("The database URL's port is not a number from 1 to 65535.")
            }
            port = number
            host = String(hostPart[..<colon])
        }
        if let text = query["port"] {
            guard let number = Int(text), (1...65535).contains(number) else {
                throw PostgresAddressError("The database URL's port is not a number from 1 to 65535.")
            }
            port = number
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if let folder = query["host"], folder.hasPrefix("/") {
            self.socketFolder = folder
            self.host = nil
        } else {
            self.socketFolder = nil
            self.host = query["host"] ?? (host.isEmpty ? "localhost" : host)
        }
        self.port = port
        switch query["sslmode"] ?? "prefer" {
        case "disable", "allow", "prefer": self.requireTLS = false
        case "require", "verify-ca", "verify-full": self.requireTLS = true
        case let mode: throw PostgresAddressError("The database URL's sslmode '\(mode)' is not one of disable, prefer, require.")
        }
    }

    /// The URL without its password, for logs.
    public var description: String {
        let place = self.socketFolder.map { "/\(self.database)?host=\($0)" } ?? "\(self.host ?? "localhost"):\(self.port)/\(self.database)"
        return "postgres://\(self.username)@\(place)"
    }

    var clientConfiguration: PostgresClient.Configuration {
        if let folder = self.socketFolder {
            return PostgresClient.Configuration(
                unixSocketPath: "\(folder)/.s.PGSQL.\(self.port)", username: self.username, password: self.password, database: self.database
            )
        }
        let tls: PostgresClient.Configuration.TLS =
            self.requireTLS ? .require(.makeClientConfiguration()) : .prefer(.makeClientConfiguration())
        return PostgresClient.Configuration(
            host: self.host ?? "localhost", port: self.port, username: self.username, password: self.password, database: self.database, tls: tls
        )
    }

    private static func decode(_ text: Substring) -> String {
        String(text).removingPercentEncoding ?? String(text)
    }
}

/// A database URL that cannot be used, with the sentence to show the operator.
public struct PostgresAddressError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
