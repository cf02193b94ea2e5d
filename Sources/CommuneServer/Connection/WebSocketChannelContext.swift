import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The request context of the WebSocket router: Hummingbird's basic one, plus the connection's channel, so that
/// the ``Outbox`` can write already-framed broadcasts straight to its socket.
struct WebSocketChannelContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<Self>
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.channel = source.channel
    }
}
