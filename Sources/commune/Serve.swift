import ArgumentParser
import CommuneCore
import CommunePostgres
import CommuneProtocol
import CommuneServer
import CommuneSQLite
import Foundation
import Logging
import UnixSignals

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a community server (HTTP web client and WebSocket protocol on one port).",
        discussion: """
            The first start creates the community in the data folder (an SQLite database), its key pair and a
            default channel tree, and prints a single-use owner invite as its last line. Stop with Ctrl-C; a
            restart on the same data folder keeps everything.
            """
    )

    @Option(help: "The address to listen on. Use 0.0.0.0 to accept other machines (put TLS in front).")
    var host = "127.0.0.1"

    @Option(help: "The port for HTTP and WebSocket; 0 picks a free one.")
    var port = 1984

    @Option(help: "The data folder (created if missing).")
    var data = ServerConfiguration.defaultDataPath

    @Option(
        help: ArgumentHelp(
            "Keep the community in this PostgreSQL database instead of the data folder's SQLite file (default: $COMMUNE_DATABASE_URL, the place for a password), e.g. postgres://commune@db.example.org/commune or postgres://commune@/commune?host=/run/postgresql. Every node started with the same database serves the same community; the data folder still holds the attachments' files, so give the nodes one shared folder.",
            valueName: "postgres-url"
        )
    )
    var database: String?

    @Option(help: "The base URL invites point at, e.g. https://chat.example.org (default: http://HOST:PORT).")
    var publicURL: String?

    @Option(help: ArgumentHelp("Serve the web client from this folder instead of the bundled one (for its development).", visibility: .hidden))
    var webRoot: String?

    @Option(
        name: .customLong("trusted-proxy"),
        help: "The address of a reverse proxy whose X-Forwarded-For names the client (repeatable), e.g. 127.0.0.1."
    )
    var trustedProxies: [String] = []

    @Flag(help: "Turn the rate limits and the connection caps off (for load tests on loopback; never on a public server).")
    var noRateLimits = false

    @Option(help: "Connections open at once from one address (raise it when many members share one, e.g. behind NAT).")
    var maxConnectionsPerAddress = ConnectionLimits().maxConnectionsPerAddress

    @Option(
        help: ArgumentHelp(
            "What an acknowledged message survives: normal (a crash of the server process) or full (a power loss too; a disk flush per commit). Default: $COMMUNE_DURABILITY, else normal.",
            valueName: "normal|full"
        )
    )
    var durability: Durability?

    @Option(
        help: ArgumentHelp(
            "Whether members may keep their home (their list of communities, sealed by their client) here.", valueName: "on|off"
        )
    )
    var homes: OnOff = .on

    @Option(
        help: ArgumentHelp(
            "Voice calls: auto (through the SFU when Janus is installed, else browser to browser), sfu, mesh or off.",
            valueName: "auto|sfu|mesh|off"
        )
    )
    var voice: VoiceConfiguration.Mode = .auto

    @Option(help: "The most members in one browser-to-browser (mesh) call.")
    var maxMeshMembers = VoiceConfiguration().maxMeshMembers

    @Option(name: .customLong("stun-url"), help: "A STUN server members use in calls, e.g. stun:stun.example.org:3478 (repeatable).")
    var stunURLs: [String] = []

    @Option(
        name: .customLong("turn-url"),
        help: "A TURN server of your own (coturn with use-auth-secret) members use in calls, e.g. turn:turn.example.org:3478 (repeatable). Needs --turn-secret-file."
    )
    var turnURLs: [String] = []

    @Option(help: "A file holding the TURN server's static-auth-secret (or set $COMMUNE_TURN_SECRET).")
    var turnSecretFile: String?

    @Option(
        help: ArgumentHelp(
            "How long the TURN credentials members get are accepted (10 to 604800; default 6 hours); clients refresh theirs before then.",
            valueName: "seconds"
        )
    )
    var turnCredentialLifetime = Int(VoiceConfiguration().turnCredentialLifetime.components.seconds)

    @Option(help: "The most members in one call through the SFU.")
    var maxCallMembers = VoiceConfiguration().maxMembersPerCall

    @Option(help: "The address browsers reach for call media (Janus and Commune's own coturn); default: this machine's primary non-loopback address.")
    var mediaIP: String?

    @Option(help: "The public address in front of a 1:1 NAT, announced instead of --media-ip.")
    var publicIP: String?

    @Option(help: ArgumentHelp("The UDP ports the SFU's media uses (open them in the firewall).", valueName: "first-last"))
    var mediaPorts: PortRange = PortRange(VoiceConfiguration().mediaPorts)

    @Option(help: "The janus binary to start (default: janus on PATH).")
    var janusPath: String?

    @Option(
        help: "Use an operator-run Janus at this WebSocket API URL (ws://HOST:8188/) instead of starting one; its VideoRoom admin_key in $COMMUNE_JANUS_ADMIN_KEY, its api_secret (if any) in $COMMUNE_JANUS_API_SECRET."
    )
    var janusURL: String?

    @Flag(help: "Do not start Commune's own TURN server (coturn), even when it is installed.")
    var noOwnTURN = false

    @Option(help: "The port of Commune's own TURN server.")
    var turnPort = VoiceConfiguration().turnPort

    @Option(help: ArgumentHelp("The UDP ports Commune's own TURN server relays on (open them in the firewall).", valueName: "first-last"))
    var turnRelayPorts: PortRange = PortRange(VoiceConfiguration().turnRelayPorts)

    @Option(
        help: ArgumentHelp(
            "A file holding the token that lets other machines read /metrics (as 'Authorization: Bearer <token>'; or set $COMMUNE_METRICS_TOKEN). Without one, /metrics answers this machine only.",
            valueName: "path"
        )
    )
    var metricsTokenFile: String?

    @Option(
        help: ArgumentHelp(
            "On Ctrl-C or SIGTERM, how long /readyz answers 503 before connections are closed (for a load balancer to take this node out first).",
            valueName: "seconds"
        )
    )
    var shutdownDelay = 0

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    /// `COMMUNE_DURABILITY` (`normal` or `full`), for service managers and the benchmark scripts; `normal` if unset.
    static func environmentDurability() throws -> Durability {
        guard let value = ProcessInfo.processInfo.environment["COMMUNE_DURABILITY"], !value.isEmpty else { return .normal }
        guard let durability = Durability(rawValue: value) else {
            throw ValidationError("COMMUNE_DURABILITY must be normal or full, not '\(value)'.")
        }
        return durability
    }

    /// The voice flags, checked: a TURN URL needs its secret, and the secret is never taken from the command line
    /// (where every user of the machine could read it).
    func configureVoice(_ voice: inout VoiceConfiguration) throws {
        voice.mode = self.voice
        guard self.maxMeshMembers >= 2 else { throw CommandFailure("--max-mesh-members must be at least 2.") }
        voice.maxMeshMembers = self.maxMeshMembers
        for url in self.stunURLs where !url.hasPrefix("stun:") && !url.hasPrefix("stuns:") {
            throw CommandFailure("--stun-url must start with stun: or stuns:, not '\(url)'.")
        }
        for url in self.turnURLs where !url.hasPrefix("turn:") && !url.hasPrefix("turns:") {
            throw CommandFailure("--turn-url must start with turn: or turns:, not '\(url)'.")
        }
        voice.stunURLs = self.stunURLs
        voice.turnURLs = self.turnURLs
        guard (10...604_800).contains(self.turnCredentialLifetime) else {
            throw CommandFailure("--turn-credential-lifetime must be 10 to 604800 seconds, not \(self.turnCredentialLifetime).")
        }
        voice.turnCredentialLifetime = .seconds(self.turnCredentialLifetime)
        let secret = try Self.secret(file: self.turnSecretFile, environment: "COMMUNE_TURN_SECRET", what: "the TURN secret")
        guard self.maxCallMembers >= 2 else { throw CommandFailure("--max-call-members must be at least 2.") }
        voice.maxMembersPerCall = self.maxCallMembers
        voice.mediaIP = self.mediaIP
        voice.publicIP = self.publicIP
        voice.mediaPorts = self.mediaPorts.range
        voice.janusPath = self.janusPath
        voice.ownTURN = !self.noOwnTURN
        voice.turnPort = self.turnPort
        voice.turnRelayPorts = self.turnRelayPorts.range
        if let url = self.janusURL {
            let environment = ProcessInfo.processInfo.environment
            guard let adminKey = environment["COMMUNE_JANUS_ADMIN_KEY"], !adminKey.isEmpty else {
                throw CommandFailure("--janus-url needs that Janus's VideoRoom admin_key in $COMMUNE_JANUS_ADMIN_KEY.")
            }
            voice.janusURL = url
            voice.janusAdminKey = adminKey
            voice.janusAPISecret = environment["COMMUNE_JANUS_API_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
        }
        if !self.turnURLs.isEmpty {
            guard let secret, !secret.isEmpty else {
                throw CommandFailure("--turn-url needs the TURN server's secret: --turn-secret-file PATH or $COMMUNE_TURN_SECRET.")
            }
            voice.turnSecret = secret
        }
    }

    /// A secret from `file` (trimmed), else from the `environment` variable; never from the command line, where every
    /// user of the machine could read it.
    static func secret(file: String?, environment: String, what: String) throws -> String? {
        guard let path = file else { return ProcessInfo.processInfo.environment[environment] }
        do {
            return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw CommandFailure("Cannot read \(what) from \(path): \(error.localizedDescription)")
        }
    }

    /// The `/metrics` token: from `--metrics-token-file`, else `COMMUNE_METRICS_TOKEN`.
    func metricsToken() throws -> String? {
        let token = try Self.secret(file: self.metricsTokenFile, environment: "COMMUNE_METRICS_TOKEN", what: "the metrics token")
        guard let token, !token.isEmpty else { return nil }
        guard token.utf8.count >= 16, token.utf8.allSatisfy({ (0x21...0x7e).contains($0) }) else {
            throw CommandFailure("The metrics token must be at least 16 printable ASCII characters without spaces.")
        }
        return token
    }

    func run() async throws {
        // One event loop per core the server may run on; before anything starts a loop.
        AllowedCores.sizeEventLoops()
        guard let level = Logger.Level(rawValue: self.logLevel) else {
            throw ValidationError("Unknown log level '\(self.logLevel)'.")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var configuration = ServerConfiguration()
        configuration.host = self.host
        configuration.port = self.port
        configuration.dataDirectory = URL(fileURLWithPath: self.data).standardizedFileURL
        configuration.publicURL = self.publicURL
        configuration.durability = try self.durability ?? Self.environmentDurability()
        configuration.trustedProxies = Set(self.trustedProxies)
        configuration.connectionLimits.maxConnectionsPerAddress = self.maxConnectionsPerAddress
        if self.noRateLimits {
            configuration.rateLimits = nil
            configuration.connectionLimits.maxConnectionsPerAddress = .max
            configuration.connectionLimits.maxConnectionsBeforeLogin = .max
        }
        try self.configureVoice(&configuration.voice)
        configuration.community.homes = self.homes == .on
        configuration.metricsToken = try self.metricsToken()
        guard (0...3_600).contains(self.shutdownDelay) else { throw CommandFailure("--shutdown-delay must be 0 to 3600 seconds.") }
        configuration.shutdownDelay = .seconds(self.shutdownDelay)
        if let webRoot = self.webRoot ?? ProcessInfo.processInfo.environment["COMMUNE_WEB_ROOT"], !webRoot.isEmpty {
            configuration.webRoot = URL(fileURLWithPath: webRoot).standardizedFileURL
        }
        // Made first so that a PostgreSQL store reports its commits to it, as the SQLite store the server opens does.
        let metrics = ServerMetrics()
        let database = try await self.openDatabase(metrics: metrics.store)
        defer { database?.pool.cancel() }
        let logger = Logger(label: "commune")
        let server: CommuneServer
        do {
            server = try await CommuneServer(
                configuration: configuration, store: database?.store, metrics: metrics,
                cluster: database.map { PostgresClusterStream(store: $0.store) }, logger: logger
            )
        } catch {
            throw CommandFailure("cannot open the community in \(configuration.dataDirectory.path): \(error)")
        }
        server.metrics.bootstrapMetricsSystem()
        let dataPath = configuration.dataDirectory.path
        do {
            try await server.run(gracefulShutdownSignals: [.sigterm, .sigint]) { ready in
                Output.line("Commune is running at \(ready.baseURL) (data: \(dataPath)\(database.map { ", database: \($0.store.address)" } ?? ""))")
                Output.line("Open it in a browser, or join with: commune join <invite> --name <you>")
                Output.line(database == nil ? "Make more invites with: commune invite create --data \(dataPath)" : "Make more invites with: commune invite create --database <the same URL>")
                if let invite = ready.ownerInvite {
                    Output.line("Owner invite (single use; whoever joins with it owns the community):")
                    Output.line(invite.description)
                }
            }
        } catch {
            Output.error("error: the server stopped: \(error)")
            throw ExitCode.failure
        }
    }
}

extension Serve {
    /// The PostgreSQL store `--database` (or `COMMUNE_DATABASE_URL`) names, its connection pool running and its schema
    /// migrated, so that the community opens on it before the server listens; `nil` for the data folder's SQLite.
    /// The pool runs until the returned task is cancelled, after the server has stopped (its last writes included).
    /// The store reports its message commits to `metrics` (the server's `/metrics`).
    func openDatabase(metrics: StoreMetrics) async throws -> (store: PostgresStore, pool: Task<Void, Never>)? {
        guard let url = self.database ?? ProcessInfo.processInfo.environment["COMMUNE_DATABASE_URL"], !url.isEmpty else { return nil }
        let address: PostgresAddress
        do {
            address = try PostgresAddress(url: url)
        } catch {
            throw CommandFailure("--database: \(error)")
        }
        let store = PostgresStore(address: address, metrics: metrics, logger: Logger(label: "commune.postgres"))
        let pool = Task { await store.run() }
        do {
            // The pool retries a database it cannot reach for ever: at start, give up after a while and say so.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await store.migrate() }
                group.addTask {
                    try await Task.sleep(for: Self.databaseStartTimeout)
                    throw CommandFailure(
                        "no answer from the database \(address) within \(Self.databaseStartTimeout.components.seconds) s: is it running, does the database exist, and may this user connect? (the log above has the connection errors)"
                    )
                }
                defer { group.cancelAll() }
                try await group.next()
            }
        } catch let failure as CommandFailure {
            pool.cancel()
            throw failure
        } catch {
            pool.cancel()
            throw CommandFailure("cannot open the database \(address): \(error)")
        }
        return (store, pool)
    }

    /// How long `serve --database` waits at start for the database to answer and its schema to be brought up to date.
    static let databaseStartTimeout = Duration.seconds(30)
}

extension VoiceConfiguration.Mode: ExpressibleByArgument {}

/// A feature turned `on` or `off` on the command line (`--homes on|off`).
enum OnOff: String, ExpressibleByArgument, Sendable {
    case on
    case off
}

/// A port range on the command line: `20000-20999`.
struct PortRange: ExpressibleByArgument, CustomStringConvertible {
    let range: ClosedRange<Int>

    init(_ range: ClosedRange<Int>) { self.range = range }

    init?(argument: String) {
        let parts = argument.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let first = Int(parts[0]), let last = Int(parts[1]), 1024 < first, first <= last, last <= 65535 else { return nil }
        self.range = first...last
    }

    var description: String { "\(self.range.lowerBound)-\(self.range.upperBound)" }
    var defaultValueDescription: String { self.description }
}
