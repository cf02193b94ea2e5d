import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
@_spi(WSInternal) import WSCore

/// How an upgraded WebSocket is served.
enum SocketService: Sendable {
    /// By channel handlers that `install` adds to the pipeline, on the event loop, right after the upgrade: the
    /// connection's task (Hummingbird's, one per accepted connection) ends, and the socket stays open without one.
    case handlers(install: @Sendable (any Channel, HTTPRequestHead) throws -> Void)
    /// By a task that runs `run` over swift-websocket's streams for as long as the socket is open.
    case task(run: @Sendable (WebSocketInboundStream, WebSocketOutboundWriter, any Channel) async -> Void)
}

/// The server's HTTP/1 child channel with WebSocket upgrades, in place of Hummingbird's
/// `HTTP1WebSocketUpgradeChannel` (whose upgraded sockets are always served by a task for their whole life, through
/// an `NIOAsyncChannel`): `route` says for an upgrade request's head how its socket is served, or refuses it (400).
/// Requests that do not ask for an upgrade go to Hummingbird's responder as with `HTTP1WebSocketUpgradeChannel`.
struct UpgradeChannel: ServerChildChannel, HTTPChannelHandler {
    enum UpgradeResult: Sendable {
        /// Upgraded and served by handlers in its pipeline.
        case served
        /// Upgraded; served by a task.
        case task(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, @Sendable (WebSocketInboundStream, WebSocketOutboundWriter, any Channel) async -> Void)
        case notUpgraded(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        /// An upgrade was asked for and refused.
        case failedUpgrade(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
    }

    struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        let channel: any Channel
    }

    /// The context of a WebSocket served by a task.
    struct TaskContext: WebSocketContext {
        let logger: Logger
    }

    let responder: HTTPChannelHandler.Responder
    /// How an upgrade request's socket is served (`nil`: refused).
    let route: @Sendable (HTTPRequestHead) -> SocketService?
    /// The largest frame, and how long a closing socket waits for the client's close frame (sockets served by a task).
    let maxFrameBytes: Int
    let closeTimeout: Duration

    init(
        responder: @escaping HTTPChannelHandler.Responder, maxFrameBytes: Int, closeTimeout: Duration,
        route: @escaping @Sendable (HTTPRequestHead) -> SocketService?
    ) {
        self.responder = Self.redirectingUpgrades(responder)
        self.maxFrameBytes = maxFrameBytes
        self.closeTimeout = closeTimeout
        self.route = route
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let upgradeAttempted = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
            let upgrader = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                maxFrameSize: self.maxFrameBytes,
                shouldUpgrade: { channel, head in
                    upgradeAttempted.value = true
                    let accepted = head.method == .GET && self.route(head) != nil
                    return channel.eventLoop.makeSucceededFuture(accepted ? HTTPHeaders() : nil)
                },
                upgradePipelineHandler: { channel, head in
                    channel.eventLoop.makeCompletedFuture {
                        switch self.route(head) {
                        case .handlers(let install)?:
                            try install(channel, head)
                            return .served
                        case .task(let run)?:
                            let asyncChannel = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(
                                wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true)
                            )
                            return .task(asyncChannel, run)
                        case nil:
                            throw ChannelError.inappropriateOperationForState
                        }
                    }
                }
            )
            let http1 = HTTP1Channel.Configuration()
            let upgrades = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
                        let asyncChannel = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true)
                        )
                        return upgradeAttempted.value ? UpgradeResult.failedUpgrade(asyncChannel) : .notUpgraded(asyncChannel)
                    }
                }
            )
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(upgradeConfiguration: upgrades)
            configuration.enablePipelining = false  // HTTP is pipelined by NIOAsyncChannel
            configuration.enableErrorHandling = false  // answered by the ConnectionGuard (HTTPParseErrorResponder)
            configuration.enableResponseHeaderValidation = false  // Swift HTTP Types validate them already
            configuration.decoderConfiguration.maxHeaderFieldSize = http1.httpDecoder.maxHeaderFieldSize
            configuration.decoderConfiguration.maxHeaderListSize = http1.httpDecoder.maxHeaderListSize
            configuration.decoderConfiguration.maxHeaderFieldCount = http1.httpDecoder.maxHeaderFieldCount
            let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            return Value(upgradeResult: result, channel: channel)
        }
    }

    /// Serves the connection: HTTP requests one after another, or a WebSocket served by a task, until it closes;
    /// a WebSocket served by handlers returns at once (the socket stays open).
    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .served:
                return
            case .notUpgraded(let http):
                await self.handleHTTP(asyncChannel: http, logger: logger)
            case .failedUpgrade(let http):
                logger.debug("WebSocket upgrade refused")
                await Self.refuseUpgrade(http, logger: logger)
            case .task(let asyncChannel, let run):
                do {
                    _ = try await WebSocketHandler.handle(
                        type: .server,
                        configuration: .init(
                            extensions: [], autoPing: .disabled, closeTimeout: self.closeTimeout, validateUTF8: true, maxFrameSize: self.maxFrameBytes
                        ),
                        asyncChannel: asyncChannel,
                        context: TaskContext(logger: logger),
                        handler: { inbound, outbound, _ in await run(inbound, outbound, asyncChannel.channel) }
                    )
                } catch {
                    logger.debug("WebSocket handler error", metadata: ["error.type": "\(error)"])
                }
            }
        } catch let error as ChannelError where error == .inputClosed {
            logger.trace("Upgrade failed as input was closed")
        } catch {
            logger.debug("The connection ended before it was served: \(error)")
        }
    }

    /// Answers a refused upgrade with 400 and closes.
    private static func refuseUpgrade(_ http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, logger: Logger) async {
        do {
            try await http.executeThenClose { _, outbound in
                try await outbound.write(contentsOf: [
                    .head(HTTPResponse(status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"])), .end(nil),
                ])
            }
        } catch {
            logger.trace("Writing the refusal failed: \(error)")
        }
    }

    /// Wraps `responder`: an upgrade asked for after an earlier request on the same connection (which swift-nio's
    /// upgrade handler no longer looks at) is redirected to the same address with the connection closed, so that
    /// the client asks again on a new connection, as Hummingbird's own upgrade channel does.
    private static func redirectingUpgrades(_ responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        struct RedirectClose: Error {}
        return { request, responseWriter, channel in
            guard request.headers[.upgrade] == "websocket" else {
                return try await responder(request, responseWriter, channel)
            }
            var path = request.uri.path
            if let query = request.uri.query { path += "?\(query)" }
            try await responseWriter.writeResponse(HTTPResponse(status: .temporaryRedirect, headerFields: [.connection: "close", .location: path]))
            throw RedirectClose()
        }
    }
}
