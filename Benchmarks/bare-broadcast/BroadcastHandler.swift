import NIOCore
import NIOWebSocket

/// One member of the bare broadcast: hands every text frame it reads to the hub, answers pings, honours close.
final class BroadcastHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let hub: BroadcastHub
    private let writer: RawFrameWriter
    private var fragments: ByteBuffer?
    private var closing = false

    init(hub: BroadcastHub, writer: RawFrameWriter) {
        self.hub = hub
        self.writer = writer
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.hub.join(self.writer)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.hub.leave(self.writer)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            if frame.fin {
                self.hub.broadcast(text: frame.unmaskedData, from: self.writer)
            } else {
                self.fragments = frame.unmaskedData
            }
        case .continuation:
            guard var collected = self.fragments else { return }
            var part = frame.unmaskedData
            collected.writeBuffer(&part)
            if frame.fin {
                self.fragments = nil
                self.hub.broadcast(text: collected, from: self.writer)
            } else {
                self.fragments = collected
            }
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(self.wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            guard !self.closing else { return }
            self.closing = true
            let close = WebSocketFrame(fin: true, opcode: .connectionClose, data: frame.unmaskedData)
            let channel = context.channel
            context.writeAndFlush(self.wrapOutboundOut(close)).whenComplete { _ in channel.close(promise: nil) }
        default:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
