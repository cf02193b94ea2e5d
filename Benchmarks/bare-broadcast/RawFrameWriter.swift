import NIOCore

/// Sits first in a connection's pipeline so that already-framed WebSocket bytes can be written past the frame
/// encoder, straight to the socket.
///
/// Only touched on the channel's event loop.
final class RawFrameWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private(set) var context: ChannelHandlerContext?
    /// Set when a write is pending a flush in this event-loop turn.
    var needsFlush = false

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Queues one framed buffer; the hub flushes later in the same loop turn.
    func write(_ buffer: ByteBuffer) {
        self.context?.write(NIOAny(buffer), promise: nil)
    }

    func flush() {
        self.needsFlush = false
        self.context?.flush()
    }
}
