import NIOCore

/// One simulated member on one connection, speaking one of the protocols. A session lives on the run's event
/// loop, reports what happens to its ``BenchRun``, and is driven by it.
protocol BenchSession: AnyObject {
    var index: Int { get }
    /// The connection is open.
    func attach(context: ChannelHandlerContext)
    /// What one socket read brought.
    func receive(_ buffer: ByteBuffer)
    /// The connection closed.
    func detach()
    /// Log in (Commune), join the room (XMPP); the bare broadcaster needs nothing.
    func logIn()
    /// Sends one benchmark message (``BenchMessage``) to the channel or room.
    func send(text: [UInt8])
    /// Commune: asks for one `get_messages` page.
    func requestHistory(loadedMessages: Int, before: Int64?, amount: Int)
}

/// Forwards a connection's events to its session.
final class SessionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let session: any BenchSession

    init(session: any BenchSession) {
        self.session = session
    }

    func channelActive(context: ChannelHandlerContext) {
        self.session.attach(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.session.receive(self.unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.session.detach()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
