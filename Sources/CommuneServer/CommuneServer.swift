import CommuneCore
import CommuneProtocol
import CommuneSQLite
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import ServiceLifecycle
import Synchronization
import UnixSignals

/// A Commune community server: HTTP (the web client) and WebSocket (the protocol) on one port.
public final class CommuneServer: Sendable {
    public let configuration: ServerConfiguration
    /// Where the community is kept: the data folder's SQLite database unless another store was given.
    public let store: any CommunityStore
    public let community: Community
    let hub: ConnectionHub
    let limiter: RequestLimiter?
    let flushers: LoopFlushers
    /// Voice: the open call sockets and the backend behind them (`nil` with voice off).
    let callSockets = CallSockets()
    let callBackend: (any CallBackend)?
    let callEvents: CallEvents
    /// Commune's own coturn, when it runs one.
    let ownTURN: TURNServer?
    let logger: Logger
    /// This server's metrics (`GET /metrics`), in a registry of its own.
    public let metrics: ServerMetrics
    /// `GET /readyz`: the store answers and the server is not shutting down.
    let readiness: Readiness
    /// The other nodes serving the same community, through the cluster's stream (`nil`: this node is alone).
    let cluster: ClusterLink?
    private let serviceGroup = Mutex<ServiceGroup?>(nil)

    /// What a started server tells its caller.
    public struct Ready: Sendable {
        /// The port actually bound (useful with port 0).
        public var port: Int
        /// The base URL invites point at.
        public var baseURL: String
        /// On the community's first start: the single-use invite that makes its owner.
        public var ownerInvite: InviteLink?
    }

    /// Opens the community in `store`, or in the data folder's SQLite database when `store` is `nil` (creating the
    /// community on first use). A store opened by the caller reports its commits to `metrics` if it was given
    /// `metrics.store`. `healthCheck` is what `/readyz` asks (the store by default). With a `cluster` stream (a
    /// shared database's), this server is one node of several serving the community.
    public init(
        configuration: ServerConfiguration, store: (any CommunityStore)? = nil, metrics: ServerMetrics = ServerMetrics(),
        healthCheck: (any StoreHealthCheck)? = nil, cluster: (any ClusterStream)? = nil, logger: Logger
    ) async throws {
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.flushers = LoopFlushers(interval: TimeAmount(configuration.flushInterval))
        self.store = try store ?? SQLiteStore(directory: configuration.dataDirectory, durability: configuration.durability, metrics: metrics.store)
        self.readiness = Readiness(
            store: healthCheck ?? self.store, timeout: configuration.readinessTimeout, shutdownDelay: configuration.shutdownDelay, logger: logger
        )
        // Where the stream stands is read before the community is loaded: what other nodes change in between is
        // read again from the stream (reloading it twice is harmless; missing it is not).
        var link: ClusterLink?
        if let cluster { link = try await ClusterLink.open(cluster, lag: metrics.clusterLag, logger: logger) }
        self.cluster = link
        let store = self.store
        self.community = try await Self.openCommunity(retrying: link != nil, logger: logger) {
            try await Community.open(
                // A store that keeps session tokens itself (PostgreSQL: shared by every node) keeps them; else this process.
                store: store, sessions: (store as? any SessionStore) ?? InMemorySessionStore(), configuration: configuration.community,
                codecs: configuration.codecs,
                attachments: AttachmentFiles(directory: configuration.dataDirectory.appendingPathComponent("attachments")), logger: logger
            )
        }
        let hub = ConnectionHub(community: self.community, configuration: self.configuration, cluster: link)
        self.hub = hub
        self.limiter = configuration.rateLimits.map(RequestLimiter.init)
        let events = CallEvents(community: self.community) { updates in
            for update in updates { hub.publish(update.result, to: update.audience) }
        }
        self.callEvents = events
        // Janus's and coturn's config, secrets and pid files are one node's own: nodes sharing a data folder (a
        // cluster's attachments) keep them apart, by host and port, instead of stopping each other's.
        let voiceHome = link == nil ? configuration.dataDirectory : Self.nodeDirectory(configuration)
        let ownTURN = try TURNServer.own(for: configuration.voice, dataDirectory: voiceHome, logger: logger)
        self.ownTURN = ownTURN
        self.callBackend = try Self.makeCallBackend(
            ownTURN?.serving(configuration.voice) ?? configuration.voice, dataDirectory: voiceHome, sockets: self.callSockets,
            events: events, logger: logger
        )
        if let backend = self.callBackend { self.community.calls.attach(backend) }
    }

    /// Opens the community; with `retrying` (several nodes), tries again a few times: nodes started together on a
    /// new database race to create the community (its key, default tree), and the losers find it made.
    static func openCommunity(retrying: Bool, logger: Logger, _ open: () async throws -> Community) async throws -> Community {
        var attempt = 1
        while true {
            do {
                return try await open()
            } catch {
                guard retrying, attempt < 5 else { throw error }
                logger.notice("Opening the community failed (another node may be creating it); trying again: \(String(reflecting: error))")
                attempt += 1
                try await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
    }

    /// A node's own folder inside a data folder that several nodes share: `nodes/HOST-PORT`.
    static func nodeDirectory(_ configuration: ServerConfiguration) -> URL {
        let host = String(ProcessInfo.processInfo.hostName.unicodeScalars.map { scalar -> Character in
            let kept = scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "." || scalar == "-")
            return kept ? Character(scalar) : "_"
        })
        return configuration.dataDirectory.appendingPathComponent("nodes").appendingPathComponent("\(host)-\(configuration.port)")
    }

    /// Logged-in connections right now.
    public var connectionCount: Int { self.hub.count }

    /// Runs until cancelled or, when `gracefulShutdownSignals` are given, until one arrives.
    public func run(
        gracefulShutdownSignals: [UnixSignal] = [],
        onReady: @escaping @Sendable (Ready) async -> Void = { _ in }
    ) async throws {
        DescriptorLimit.raiseAndLog(limits: self.configuration.connectionLimits, logger: self.logger)
        let oldNames = self.community.storedNameProblems()
        for problem in oldNames {
            self.logger.warning("Stored \(problem) It stays as an older version stored it; rename it to follow the current rules.")
        }
        if !oldNames.isEmpty {
            self.logger.warning("\(oldNames.count) stored name(s) break the current rules; list them with: commune check-names --data \(self.configuration.dataDirectory.path)")
        }
        let application = self.makeApplication(onReady: onReady)
        let serviceGroup = ServiceGroup(
            configuration: .init(
                // The cluster's link first, so that it stops last: what closing connections say still goes out.
                services: [self.cluster as (any Service)?].compactMap { $0 } + [application, HeapTrimmer(period: self.configuration.heapTrimPeriod), ReadMarkFlusher(community: self.community, logger: self.logger), MemberCountsTicker(hub: self.hub)]
                    + [self.callBackend as? any Service].compactMap { $0 }
                    + [self.ownTURN.map { TURNSupervisor(server: $0, logger: self.logger) as any Service }].compactMap { $0 }
                    // Last, so that a graceful shutdown reaches it first: /readyz fails while the rest still serves.
                    + [self.readiness],
                gracefulShutdownSignals: gracefulShutdownSignals,
                logger: self.logger
            )
        )
        self.serviceGroup.withLock { $0 = serviceGroup }
        try await serviceGroup.run()
    }

    /// Stops a running server gracefully: open WebSockets are sent a close frame (1001 to members, 1000 to sockets not
    /// logged in; ``ProtocolSocketHandler``) and dropped if they do not answer within the close timeout.
    public func shutdown() async {
        let group = self.serviceGroup.withLock { $0 }
        await group?.triggerGracefulShutdown()
    }

    func makeApplication(onReady: @escaping @Sendable (Ready) async -> Void) -> some ApplicationProtocol {
        let router = Router(context: HTTPRequestContext.self)
        router.add(middleware: WebHeadersMiddleware())
        router.add(middleware: AttachmentCORSMiddleware())
        OperationsRoutes(
            readiness: self.readiness, metrics: self.metrics,
            access: MetricsAccess(token: self.configuration.metricsToken, trustedProxies: self.configuration.trustedProxies),
            connections: { [hub = self.hub] in hub.count }
        ).register(on: router)
        AttachmentRoutes(community: self.community, limiter: self.limiter).register(on: router)
        if let webRoot = self.configuration.webRoot {
            router.add(middleware: FileMiddleware(webRoot.path, searchForIndexHtml: true, logger: self.logger))
        } else {
            self.logger.warning("The web client's files were not found; only the WebSocket protocol is served")
        }

        // The protocol socket is served by channel handlers on its event loop (no task while it is idle); call
        // sockets, open only during a call, by a task over swift-websocket's streams.
        let protocolSocket = SocketService.handlers { channel, head in try self.serveProtocolSocket(on: channel, head: head) }
        let callSocket = self.callBackend.map { backend in
            let calls = CallSocketRoute(community: self.community, backend: backend, events: self.callEvents, logger: self.logger)
            return SocketService.task { inbound, outbound, channel in
                ConnectionGuard.startKeepAlive(on: channel, every: self.configuration.pingInterval)
                await calls.run(inbound: inbound, outbound: outbound, admission: await ConnectionGuard.admission(of: channel))
            }
        }
        let callPath = VoiceChannelCodec.callSocketPath.split(separator: "/")
        let route: @Sendable (HTTPRequestHead) -> SocketService? = { head in
            let path = head.uri.prefix { $0 != "?" }.split(separator: "/")
            if path.isEmpty { return protocolSocket }
            return path == callPath ? callSocket : nil
        }
        return Application(
            router: router,
            server: .guarded(configuration: self.configuration, route: route),
            configuration: .init(address: .hostname(self.configuration.host, port: self.configuration.port), serverName: "Commune"),
            onServerRunning: { channel in
                // Hummingbird builds the listening channel's pipeline itself; this is the first moment to add to it.
                do {
                    try await AcceptBackoff.install(on: channel, logger: self.logger)
                } catch {
                    self.logger.error("Installing the accept backoff failed: \(error)")
                }
                let port = channel.localAddress?.port ?? self.configuration.port
                do {
                    let ready = try await self.announce(port: port)
                    await onReady(ready)
                } catch {
                    self.logger.error("Recording the server's address failed: \(error)")
                }
            },
            logger: self.logger
        )
    }

    /// Serves the protocol socket on `channel`, just upgraded (on its event loop): puts its handlers in the pipeline
    /// and starts its connection. No task is left running for it; requests start one while they run.
    func serveProtocolSocket(on channel: any Channel, head: HTTPRequestHead) throws {
        let pipeline = channel.pipeline.syncOperations
        let guardHandler = try pipeline.handler(type: ConnectionGuard.self)
        guardHandler.startKeepAlive(every: TimeAmount(self.configuration.pingInterval))
        let writer = RawFrameWriter()
        try pipeline.addHandler(writer, position: .first)
        let handler = ProtocolSocketHandler(
            maxMessageBytes: self.configuration.maxFrameBytes, closeTimeout: self.configuration.closeTimeout, logger: self.logger
        )
        let boundHandler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        let connection = ClientConnection(
            id: self.hub.makeConnectionID(),
            outbox: Outbox(
                writer: NIOLoopBound(writer, eventLoop: channel.eventLoop), flusher: self.flushers.flusher(for: channel.eventLoop),
                limitBytes: self.configuration.outboundQueueLimitBytes, admission: guardHandler.admission, metrics: self.metrics.fanout,
                closer: { code, reason in boundHandler.value.serverClose(code, reason) }
            ),
            community: self.community,
            hub: self.hub,
            configuration: self.configuration,
            address: SourceAddress.of(
                peer: channel.remoteAddress, forwardedFor: head.headers[HTTPField.Name.xForwardedFor.rawName],
                trustedProxies: self.configuration.trustedProxies
            ),
            limiter: self.limiter,
            metrics: self.metrics,
            logger: self.logger,
            resumeReading: { channel.eventLoop.execute { boundHandler.value.resumeReading() } }
        )
        handler.attach(connection)
        try pipeline.addHandler(handler)
        connection.start()
    }

    /// The voice backend `configuration` asks for, as far as this machine has it; says which in the log.
    static func makeCallBackend(
        _ configuration: VoiceConfiguration, dataDirectory: URL, sockets: CallSockets, events: CallEvents, logger: Logger
    ) throws -> (any CallBackend)? {
        let turn: Logger.Metadata = ["turn": "\(configuration.turnURLs.isEmpty ? "none" : configuration.turnURLs.joined(separator: " "))"]
        func mesh(_ why: String) -> MeshCalls {
            logger.info("Voice: mesh calls (browsers connect to each other; at most \(configuration.maxMeshMembers) per call)\(why)", metadata: turn)
            return MeshCalls(sockets: sockets, events: events, ice: configuration.iceProvider, maxMembersPerCall: configuration.maxMeshMembers)
        }
        switch configuration.mode {
        case .off:
            logger.info("Voice is off (--voice off)")
            return nil
        case .mesh:
            return mesh("")
        case .auto, .sfu:
            let sfu = try JanusCalls.make(configuration, dataDirectory: dataDirectory, sockets: sockets, events: events, logger: logger)
            switch sfu {
            case .ready(let calls): return calls
            case .unusable(let reason):
                if configuration.mode == .sfu { throw VoiceConfigurationError(description: "--voice sfu: \(reason)") }
                return mesh(". For calls through the SFU (larger calls, server mute enforced): \(reason)")
            }
        }
    }

    /// Records the address invites use and, on the first start, issues the owner's invite.
    func announce(port: Int) async throws -> Ready {
        let baseURL = self.configuration.baseURL(boundPort: port)
        try await self.store.setSetting(SettingKey.publicURL, baseURL)
        let marker = String(UnixTime.nowMilliseconds())
        let issued = try await self.store.setSettingIfAbsent("community.owner_invite_issued_at", marker)
        var ownerInvite: InviteLink?
        if issued == marker {
            let invite = try await InviteIssuer.create(in: self.store, group: DefaultGroup.owner, uses: 1)
            ownerInvite = InviteLink(baseURL: baseURL, code: invite.code)
        }
        self.logger.info("Commune is listening", metadata: ["url": "\(baseURL)"])
        return Ready(port: port, baseURL: baseURL, ownerInvite: ownerInvite)
    }
}
