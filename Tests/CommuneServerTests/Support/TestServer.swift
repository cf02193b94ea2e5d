import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Foundation
import Logging
import Synchronization
import Testing

/// A real Commune server on an ephemeral loopback port with its own data folder.
final class TestServer: Sendable {
    let directory: URL
    let server: CommuneServer
    let ready: CommuneServer.Ready
    private let task: Task<Void, any Error>

    var webSocketURL: String { "ws://127.0.0.1:\(self.ready.port)/" }
    var baseURL: String { self.ready.baseURL }

    /// Starts a server on `directory` (a new temporary folder by default); `store` instead of the folder's SQLite file
    /// (the attachments' files stay in the folder); `healthCheck` stands in for the store's own in `/readyz`; with
    /// `cluster`, one node of several on the store's database.
    static func start(
        directory: URL? = nil, store: (any CommunityStore)? = nil, healthCheck: (any StoreHealthCheck)? = nil,
        cluster: (any ClusterStream)? = nil, configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> TestServer {
        let directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("commune-\(UUIDString.random().value)")
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.dataDirectory = directory
        // Tests send bursts no person would; the rate-limit tests turn the limits on.
        configuration.rateLimits = nil
        // Tests open many connections from loopback; the connection-limit tests set small caps.
        configuration.connectionLimits.maxConnectionsPerAddress = 100_000
        configuration.connectionLimits.maxConnectionsBeforeLogin = 100_000
        // Calls between browsers unless a test asks for the SFU (JanusTests): `auto` would start Janus when installed.
        configuration.voice.mode = .mesh
        // Nor their own coturn (on the fixed TURN port): the TURN tests start it themselves.
        configuration.voice.ownTURN = false
        configure(&configuration)
        var logger = Logger(label: "commune.test")
        logger.logLevel = .warning
        let server = try await CommuneServer(configuration: configuration, store: store, healthCheck: healthCheck, cluster: cluster, logger: logger)
        let (stream, continuation) = AsyncStream<CommuneServer.Ready>.makeStream()
        let task = Task {
            try await server.run { ready in continuation.yield(ready) }
        }
        let ready = try await withThrowingTaskGroup(of: CommuneServer.Ready?.self) { group in
            group.addTask { await stream.first { _ in true } }
            group.addTask {
                try await Task.sleep(for: .seconds(20))
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let ready else {
            task.cancel()
            throw TestFailure("the server did not start within 20 s")
        }
        return TestServer(directory: directory, server: server, ready: ready, task: task)
    }

    private init(directory: URL, server: CommuneServer, ready: CommuneServer.Ready, task: Task<Void, any Error>) {
        self.directory = directory
        self.server = server
        self.ready = ready
        self.task = task
    }

    /// Stops the server and waits until it has.
    func stop() async {
        await self.server.shutdown()
        _ = try? await self.task.value
    }

    /// Stops the server and deletes its data folder.
    func stopAndRemove() async {
        await self.stop()
        try? FileManager.default.removeItem(at: self.directory)
    }

    /// A new invite code.
    func invite(uses: Int64 = 1, lifetimeMilliseconds: Int64? = nil, group: String = DefaultGroup.member) async throws -> String {
        try await InviteIssuer.create(in: self.server.store, group: group, uses: uses, lifetimeMilliseconds: lifetimeMilliseconds).code
    }

    /// Connects a new client.
    func connect() async throws -> CommuneConnection {
        try await CommuneConnection.connect(to: self.webSocketURL, requestTimeout: .seconds(10), logger: Self.quiet)
    }

    /// Registers with the owner invite printed at first start and logs in.
    func owner(_ name: String = "owner") async throws -> Client {
        let invite = try #require(self.ready.ownerInvite)
        return try await self.member(name, invite: invite.code)
    }

    /// Registers and logs in a new member; returns the connection, the identity and the login reply.
    func member(_ name: String, group: String = DefaultGroup.member, invite: String? = nil) async throws -> Client {
        let connection = try await self.connect()
        let identity = Identity.generate()
        let code: String
        if let invite { code = invite } else { code = try await self.invite(group: group) }
        try await connection.register(identity, invite: code, username: name)
        let welcome = try await connection.login(identity)
        return Client(connection: connection, identity: identity, welcome: welcome, events: EventReader(connection))
    }

    /// Another device of `client`'s member: a new connection logged in with the same identity.
    func secondDevice(of client: Client) async throws -> Client {
        let connection = try await self.connect()
        let welcome = try await connection.login(client.identity)
        return Client(connection: connection, identity: client.identity, welcome: welcome, events: EventReader(connection))
    }

    static var quiet: Logger {
        var logger = Logger(label: "commune.test.client")
        logger.logLevel = .critical
        return logger
    }
}

/// A logged-in test client.
struct Client: Sendable {
    let connection: CommuneConnection
    let identity: Identity
    let welcome: IdentificationResponse
    let events: EventReader
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Reads a connection's unsolicited frames (updates, errors without id) with time limits.
final class EventReader: Sendable {
    private struct State {
        var buffer: [Envelope] = []
        var ended = false
    }

    private let state = Mutex(State())

    init(_ connection: CommuneConnection) {
        Task { [self] in
            for await envelope in connection.events {
                self.state.withLock { $0.buffer.append(envelope) }
            }
            self.state.withLock { $0.ended = true }
        }
    }

    /// The next frame, or `nil` once the connection has closed; throws if none arrives within `timeout`.
    func next(timeout: Duration = .seconds(5)) async throws -> Envelope? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (envelope, ended) = self.state.withLock { state -> (Envelope?, Bool) in
                if !state.buffer.isEmpty { return (state.buffer.removeFirst(), false) }
                return (nil, state.ended)
            }
            if let envelope { return envelope }
            if ended { return nil }
            guard ContinuousClock.now < deadline else { throw TestFailure("no frame within \(timeout)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The next `update` whose result is `result`, skipping others.
    func nextUpdate(_ result: String, timeout: Duration = .seconds(5)) async throws -> FunctionResult {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let envelope = try await self.next(timeout: deadline - ContinuousClock.now) else {
                throw TestFailure("the connection closed while waiting for \(result)")
            }
            if envelope.type == .update, let update = try? FunctionResult(data: envelope.data), update.result == result {
                return update
            }
        }
        throw TestFailure("no \(result) update within \(timeout)")
    }

    /// Waits until the connection has closed, skipping frames.
    func waitForClose(timeout: Duration = .seconds(5)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await self.next(timeout: deadline - ContinuousClock.now) == nil { return }
        }
        throw TestFailure("the connection did not close within \(timeout)")
    }
}

/// Runs `body` and records an issue unless it throws a `CommuneError` with `code`.
func expectError(_ code: ErrorCode, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected \(code)")
    } catch let error as CommuneError {
        #expect(error.code == code, "\(error)")
    } catch {
        Issue.record("unexpected \(error)")
    }
}
