import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// The server's child channel: HTTP/1 with WebSocket upgrades (``UpgradeChannel``), with the connection limits in
/// front. Each accepted connection is counted by the ``ConnectionLimiter`` (refused with 503 when its address or the
/// pool of connections not logged in is full) and gets a ``ConnectionGuard`` first in its pipeline.
struct GuardedChildChannel<Inner: ServerChildChannel>: ServerChildChannel {
    enum Value: ServerChildChannelValue {
        case accepted(Inner.Value)
        case refused(any Channel)

        var channel: any Channel {
            switch self {
            case .accepted(let value): value.channel
            case .refused(let channel): channel
            }
        }
    }

    let inner: Inner
    let limiter: ConnectionLimiter
    /// The largest WebSocket message after login.
    let maxMessageBytes: Int
    /// Peers not counted per address (reverse proxies, whose clients share their address).
    let trustedProxies: Set<String>

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let peer = channel.remoteAddress?.ipAddress ?? "unknown"
        let limits = self.limiter.limits
        switch self.limiter.admit(address: self.trustedProxies.contains(peer) ? nil : peer) {
        case .failure(let refusal):
            logger.notice("Refusing a connection: \(refusal)", metadata: ["peer": "\(peer)"])
            return channel.eventLoop.makeCompletedFuture {
                let refuse = ConnectionGuard(limits: limits, maxMessageBytes: self.maxMessageBytes, admission: .uncounted(), refusal: refusal)
                try channel.pipeline.syncOperations.addHandler(refuse)
                return .refused(channel)
            }
        case .success(let admission):
            channel.closeFuture.whenComplete { _ in admission.closed() }
            do {
                try channel.syncOptions?.setOption(ChannelOptions.recvAllocator, value: Self.receiveBuffers)
                try channel.pipeline.syncOperations.addHandler(
                    ConnectionGuard(limits: limits, maxMessageBytes: self.maxMessageBytes, admission: admission)
                )
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
            return self.inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
                try channel.pipeline.syncOperations.addHandler(HTTPParseErrorResponder())
                return .accepted(value)
            }
        }
    }

    /// How a connection's reads are buffered: swift-nio keeps each connection's receive buffers (up to four) for
    /// reuse, at the size they were made; starting at 512 bytes instead of swift-nio's 2,048 keeps an idle chat
    /// connection's small (its frames are a few hundred bytes), and a connection reading more grows them as it goes.
    static var receiveBuffers: AdaptiveRecvByteBufferAllocator {
        AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536)
    }

    func handle(value: Value, logger: Logger) async {
        switch value {
        case .accepted(let inner):
            await self.inner.handle(value: inner, logger: logger)
        case .refused(let channel):
            try? await channel.closeFuture.get()
        }
    }
}

/// Last in the pipeline while HTTP is spoken: a request the HTTP decoder cannot parse is answered 400 and the
/// connection closed, by the ``ConnectionGuard`` (Hummingbird's upgrade pipeline leaves such errors unanswered).
final class HTTPParseErrorResponder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Never

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError, let guardHandler = try? context.pipeline.syncOperations.handler(type: ConnectionGuard.self) else {
            context.fireErrorCaught(error)
            return
        }
        guardHandler.refuseUnparsable()
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 with WebSocket upgrades served as `route` says (``UpgradeChannel``), behind the server's connection limits.
    static func guarded(configuration: ServerConfiguration, route: @escaping @Sendable (HTTPRequestHead) -> SocketService?) -> HTTPServerBuilder {
        let limiter = ConnectionLimiter(configuration.connectionLimits)
        return HTTPServerBuilder { responder in
            GuardedChildChannel(
                inner: UpgradeChannel(
                    responder: responder, maxFrameBytes: configuration.maxFrameBytes, closeTimeout: configuration.closeTimeout, route: route
                ),
                limiter: limiter, maxMessageBytes: configuration.maxFrameBytes, trustedProxies: configuration.trustedProxies
            )
        }
    }
}
