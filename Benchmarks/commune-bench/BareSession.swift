import NIOCore

/// A member of the bare broadcaster: upgrade, then send and receive text frames. No handshake.
///
/// What it sends is shaped like the `message_live` update Commune delivers (same fields, same size), so both
/// servers move frames of the same length.
final class BareSession: BenchSession {
    let index: Int
    private unowned let run: BenchRun
    private var codec = WebSocketClientCodec()
    private let frames = WebSocketFrameWriter()
    private var context: ChannelHandlerContext?
    private let prefix: [UInt8]
    private let suffix: [UInt8]

    init(index: Int, run: BenchRun) {
        self.index = index
        self.run = run
        self.prefix = Array(
            (#"{"type":"update","id":"c0ffee00-1111-4222-8333-444455556666","log":{"log_level":0,"message":"Text update"},"#
                + #""data":{"codec":"text","name":"General","path":"General","payload":{"message":""#).utf8)
        self.suffix = Array(
            (#"","message_id":1000000,"send_time":1795427716012,"sender_id":"0b7c4a52-98d3-4c4e-8d0e-2f0a3f1b9c11"},"#
                + #""result":"message_live"}}"#).utf8)
    }

    func attach(context: ChannelHandlerContext) {
        self.context = context
        let request = WebSocketClientCodec.upgradeRequest(
            host: self.run.config.host, port: self.run.config.port, allocator: context.channel.allocator)
        context.writeAndFlush(NIOAny(request), promise: nil)
    }

    func receive(_ buffer: ByteBuffer) {
        self.codec.receive(buffer) { event in
            switch event {
            case .upgraded:
                self.run.sessionReady(self.index)
            case .message(let message):
                BenchMessage.scan(message) { sendNanos, sender in
                    self.run.delivered(sendNanos: sendNanos, sender: sender, receiver: self.index)
                }
            case .ping(let payload):
                if let context = self.context {
                    context.writeAndFlush(NIOAny(self.frames.pong(payload, allocator: context.channel.allocator)), promise: nil)
                }
            case .closed(let code, let reason):
                self.run.sessionClosed(self.index, reason: "close \(code.map(String.init) ?? "-") \(reason)")
                self.context?.close(promise: nil)
            case .failed(let reason):
                self.run.sessionFailed(self.index, reason: reason)
                self.context?.close(promise: nil)
            }
        }
    }

    func detach() {
        self.context = nil
        self.run.sessionClosed(self.index, reason: "connection closed")
    }

    func logIn() {
        let run = self.run
        let index = self.index
        run.loop.execute { run.sessionLoggedIn(index) }
    }

    func send(text: [UInt8]) {
        guard let context = self.context else { return }
        let body = self.prefix + text + self.suffix
        context.writeAndFlush(NIOAny(self.frames.textFrame(body, allocator: context.channel.allocator)), promise: nil)
    }

    func requestHistory(loadedMessages: Int, before: Int64?, amount: Int) {}
}
