import Hummingbird
import NIOCore

/// The request context of the HTTP router: Hummingbird's basic one, plus the peer's address (who may read
/// `/metrics`).
struct HTTPRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}
