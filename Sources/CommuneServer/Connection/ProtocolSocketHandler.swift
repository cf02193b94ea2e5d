import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket

/// Serves the protocol socket once its WebSocket upgrade is done, on the channel's event loop, last in the pipeline
/// after swift-nio's frame decoder: it joins a message's frames and hands the message to its ``ClientConnection``
/// (which starts a task only while requests are waiting or running), answers pings, and runs the close handshake.
/// An idle connection is this handler, the ``ConnectionGuard``'s timers and its buffers: no task.
///
/// The ``ConnectionGuard`` in front has already refused what RFC 6455 forbids (unmasked or reserved frames, a
/// continuation outside a message, control frames fragmented or too long, invalid UTF-8, messages over the limit),
/// so what reaches this handler is well formed.
///
/// Closing: a close asked through the ``Outbox`` (``serverClose(_:_:)``) goes out after the frames queued before it;
/// the server then shuts its side and closes the socket when the client answers with its close frame, sends
/// nothing more, or after the close timeout. A client's close frame is answered (1000, or 1002 for a code or reason
/// RFC 6455 forbids) and the socket closed. A graceful shutdown (`ChannelShouldQuiesceEvent`) closes a member's
/// socket with 1001 "server shutting down", one not logged in with 1000.
/// Used on the channel's event loop only.
final class ProtocolSocketHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private enum Phase {
        case open
        /// The server sent its close frame and waits for the client's.
        case closing
        case closed
    }

    private let maxMessageBytes: Int
    private let closeTimeout: TimeAmount
    private let logger: Logger
    private var connection: ClientConnection?
    private var context: ChannelHandlerContext?
    private var phase = Phase.open
    /// The frames of a message read so far, and whether it is text.
    private var message: ByteBuffer?
    private var messageIsText = false
    private var closeTimer: Scheduled<Void>?
    /// Reading is paused while the connection has enough messages waiting; a read asked for meanwhile waits.
    private var readsPaused = false
    private var readPending = false

    init(maxMessageBytes: Int, closeTimeout: Duration, logger: Logger) {
        self.maxMessageBytes = maxMessageBytes
        self.closeTimeout = TimeAmount(closeTimeout)
        self.logger = logger
    }

    /// The connection this socket serves (set once, before the handler is added).
    func attach(_ connection: ClientConnection) {
        self.connection = connection
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.closeTimer?.cancel()
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        switch self.phase {
        case .closed:
            return
        case .closing:
            if frame.opcode == .connectionClose { context.close(promise: nil) }
            return
        case .open:
            break
        }
        switch frame.opcode {
        case .text, .binary:
            self.message = frame.unmaskedData
            self.messageIsText = frame.opcode == .text
        case .continuation:
            guard var message = self.message else { return }
            var data = frame.unmaskedData
            message.writeBuffer(&data)
            self.message = message
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(self.wrapOutboundOut(pong), promise: nil)
            return
        case .connectionClose:
            self.clientClosed(frame, context: context)
            return
        default:
            return
        }
        guard frame.fin, let message = self.message, let connection = self.connection else { return }
        self.message = nil
        guard message.readableBytes <= self.maxMessageBytes else {
            connection.outbox.close(code: .messageTooLarge, reason: "message too large")
            return
        }
        let pause = connection.deliver(self.messageIsText ? .text(String(buffer: message)) : .binary(message))
        if pause { self.readsPaused = true }
    }

    func read(context: ChannelHandlerContext) {
        if self.readsPaused {
            self.readPending = true
        } else {
            context.read()
        }
    }

    /// Reads again after ``ClientConnection/deliver(_:)`` paused reading.
    func resumeReading() {
        self.readsPaused = false
        guard self.readPending, let context = self.context else { return }
        self.readPending = false
        context.read()
    }

    // MARK: Closing

    /// The client's close frame: answered with 1000 (1002 for a code or reason RFC 6455 forbids), then the socket
    /// is closed.
    private func clientClosed(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        self.phase = .closed
        var data = frame.unmaskedData
        let size = data.readableBytes
        let code = data.readWebSocketErrorCode()
        let reasonIsText = String(validating: data.readableBytesView, as: UTF8.self) != nil
        var answer = WebSocketErrorCode.normalClosure
        if size > 0 {
            switch code {
            case nil: answer = .protocolError
            case .unknown(let number)? where number < 3000 || number > 4999: answer = .protocolError
            default: if !reasonIsText { answer = .protocolError }
            }
        }
        var payload = context.channel.allocator.buffer(capacity: 2)
        payload.write(webSocketErrorCode: answer)
        context.writeAndFlush(self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: payload)))
            .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// Sends the close frame the ``Outbox`` asked for (it has written what was queued before), shuts the server's
    /// side, and closes the socket when the client answers or after the close timeout.
    func serverClose(_ code: WebSocketErrorCode, _ reason: String) {
        guard case .open = self.phase, let context = self.context, context.channel.isActive else { return }
        self.phase = .closing
        if self.connection?.outbox.didOverflow == true {
            self.logger.notice("Closing a slow consumer: its outbound queue overflowed")
        }
        let reason = Array(reason.utf8.prefix(123))
        var payload = context.channel.allocator.buffer(capacity: 2 + reason.count)
        payload.write(webSocketErrorCode: code)
        payload.writeBytes(reason)
        context.writeAndFlush(self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: payload)), promise: nil)
        context.close(mode: .output, promise: nil)
        self.closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: self.closeTimeout) {
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, let connection = self.connection {
            // A graceful shutdown, after what is queued: a member is told to reconnect (1001), a socket that has
            // not logged in is closed normally (1000, no reason).
            if connection.member != nil {
                connection.outbox.close(code: .goingAway, reason: "server shutting down")
            } else {
                connection.outbox.close(code: .normalClosure, reason: "")
            }
            return
        }
        if let event = event as? ChannelEvent, event == .inputClosed {
            // The client sends nothing more (it half-closed, or the guard refused what it sent).
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.phase = .closed
        self.closeTimer?.cancel()
        self.closeTimer = nil
        self.connection?.inputEnded()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.logger.debug("WebSocket error: \(error)")
        context.close(promise: nil)
    }
}
