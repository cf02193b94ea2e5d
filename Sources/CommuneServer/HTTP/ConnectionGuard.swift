import Foundation
import Hummingbird
import NIOCore

/// Sits first in every connection's pipeline, in front of the HTTP and WebSocket decoders, and reads the raw bytes
/// as they arrive (passing them on unchanged) to refuse what the decoders would buffer, wait for, or accept:
///
/// - HTTP: a request head must be complete within ``ConnectionLimits/requestHeadTimeout`` of its first byte (408),
///   and a connection that sends nothing for that long (after connecting or after its last response) is closed;
///   a request line over ``ConnectionLimits/maxRequestLineBytes`` gets 414, a head over
///   ``ConnectionLimits/maxRequestHeadBytes`` or with more than ``ConnectionLimits/maxHeaderFields`` fields 431,
///   `Content-Length` together with `Transfer-Encoding`, a `Content-Length` that is not one non-negative integer,
///   or a transfer coding other than `chunked` 400. Bodies are skipped by their framing to find the next head.
/// - WebSocket (after an upgrade head): RFC 6455's rules the libraries leave to the application or get wrong:
///   client frames must be masked, reserved bits and opcodes unused, control frames whole and short, a continuation
///   only inside a fragmented message and a new message only outside one (1002); text must be UTF-8 across
///   fragments (1007); a frame or message may not exceed ``ConnectionLimits/maxMessageBytesBeforeLogin`` before
///   login or `maxMessageBytes` after (1009), checked from the frame header, before its payload is buffered; and the
///   first message must come within ``ConnectionLimits/requestHeadTimeout`` of the upgrade (1008).
///
/// Keep-alive (``startKeepAlive(every:)``) is a timer here too: once a WebSocket is open, a ping every period, and a
/// ping left unanswered for a whole period closes the connection (1001) as a refusal does.
///
/// A refusal is written straight to the socket, the write side is shut, and what the client still sends is read
/// and discarded for ``ConnectionLimits/lingerTimeout`` (so the answer is not lost to a reset) before the socket is
/// closed. Used on the channel's event loop only.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    let limits: ConnectionLimits
    /// The largest WebSocket message after login.
    let maxMessageBytes: Int
    let admission: ConnectionAdmission
    /// Set when the connection was refused on arrival (it is answered 503 and closed at once).
    let refusal: ConnectionLimiter.Refusal?

    enum Mode {
        case head
        case body(remaining: Int)
        case chunked
        case webSocket
        /// Refused: reading and discarding until the client closes or the linger time is over.
        case lingering
    }

    var mode = Mode.head
    var head = HeadState()
    var chunks = ChunkState()
    var frames = FrameState()
    var started = false
    /// Request heads read so far.
    var requestsRead = 0
    var timer: Scheduled<Void>?
    /// Since when the connection has been waiting for a request head with none of it received.
    var idleSince = NIODeadline.now()
    /// When the current request head began, or the WebSocket upgrade was read.
    var phaseStarted = NIODeadline.now()
    /// The next keep-alive ping, and whether the last one is still unanswered.
    var pingTimer: Scheduled<Void>?
    var awaitingPong = false

    init(limits: ConnectionLimits, maxMessageBytes: Int, admission: ConnectionAdmission, refusal: ConnectionLimiter.Refusal? = nil) {
        self.limits = limits
        self.maxMessageBytes = maxMessageBytes
        self.admission = admission
        self.refusal = refusal
    }

    // MARK: Channel events

    /// This handler's context, while it is in the pipeline.
    var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { self.start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.start(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        self.stopKeepAlive()
        // The end of the stream after a refusal closes the socket outright (its write side is already shut): tell the
        // handlers behind first, so an HTTP upgrade still waiting for a request ends quietly.
        if case .lingering = self.mode { self.signalInputClosed(context: context) }
        context.fireChannelInactive()
    }

    var signalledInputClosed = false

    func signalInputClosed(context: ChannelHandlerContext) {
        guard !self.signalledInputClosed else { return }
        self.signalledInputClosed = true
        context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.timer?.cancel()
        self.timer = nil
        self.stopKeepAlive()
    }

    func start(context: ChannelHandlerContext) {
        guard !self.started else { return }
        self.started = true
        if let refusal = self.refusal {
            let detail = switch refusal {
            case .tooManyFromAddress: "Too many connections from your address; at most \(self.limits.maxConnectionsPerAddress) at once."
            case .tooManyBeforeLogin: "The server is busy; try again shortly."
            }
            self.mode = .lingering
            context.writeAndFlush(self.wrapOutboundOut(.byteBuffer(Self.response(.serviceUnavailable, detail, allocator: context.channel.allocator))))
                .assumeIsolated().whenComplete { _ in self.closeNow(context: context) }
            return
        }
        self.idleSince = .now()
        self.armTimer(context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? ChannelEvent, event == .inputClosed else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch self.mode {
        case .lingering:
            self.closeNow(context: context)
        case .head where self.requestsRead == 0:
            // The client left before its first request: nothing is left to answer.
            self.closeNow(context: context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // A response going out restarts the wait for the next request head.
        if case .head = self.mode, self.head.bytes == 0 { self.idleSince = .now() }
        context.write(data, promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = self.unwrapInboundIn(data)
        if case .lingering = self.mode { return }
        var failure: Failure?
        buffer.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count, failure == nil {
                switch self.mode {
                case .head: failure = self.readHead(bytes, &offset)
                case .body(let remaining):
                    let taken = min(remaining, bytes.count - offset)
                    offset += taken
                    self.mode = remaining == taken ? .head : .body(remaining: remaining - taken)
                    if case .head = self.mode { self.idleSince = .now() }
                case .chunked: failure = self.readChunked(bytes, &offset)
                case .webSocket: failure = self.readFrames(bytes, &offset)
                case .lingering: offset = bytes.count
                }
            }
        }
        if let failure {
            self.fail(failure, context: context)
            return
        }
        self.armTimer(context: context)
        context.fireChannelRead(data)
    }

    // MARK: Refusing

    enum Failure {
        case http(HTTPResponse.Status, String)
        case webSocket(UInt16, String)
        /// Close without a word (a connection that never sent anything).
        case silent
    }

    func fail(_ failure: Failure, context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        self.stopKeepAlive()
        let bytes: ByteBuffer
        switch failure {
        case .silent:
            self.closeNow(context: context)
            return
        case .http(let status, let detail):
            bytes = Self.response(status, detail, allocator: context.channel.allocator)
        case .webSocket(let code, let reason):
            let reason = Array(reason.utf8.prefix(123))
            var frame = context.channel.allocator.buffer(capacity: 4 + reason.count)
            frame.writeBytes([0x88, UInt8(2 + reason.count), UInt8(code >> 8), UInt8(code & 0xFF)])
            frame.writeBytes(reason)
            bytes = frame
        }
        self.mode = .lingering
        context.writeAndFlush(self.wrapOutboundOut(.byteBuffer(bytes)), promise: nil)
        // The client reads the answer, then sees the end of the stream; whatever it still sends is discarded.
        context.close(mode: .output, promise: nil)
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(self.limits.lingerTimeout)) {
            self.closeNow(context: context)
        }
    }

    func closeNow(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        self.stopKeepAlive()
        self.mode = .lingering
        guard context.channel.isActive else { return }
        // Tell the handlers behind that no more input comes (an HTTP upgrade still waiting ends quietly), then close.
        self.signalInputClosed(context: context)
        context.close(promise: nil)
    }

    /// A complete HTTP response that closes the connection, with the headers every Commune response carries.
    static func response(_ status: HTTPResponse.Status, _ detail: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        let body = detail + "\n"
        var head = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\nConnection: close\r\n"
        head += "Content-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\n"
        head += "Content-Security-Policy: \(WebHeadersMiddleware<BasicRequestContext>.contentSecurityPolicy)\r\n"
        head += "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nCache-Control: no-store\r\n"
        if status == .serviceUnavailable { head += "Retry-After: 10\r\n" }
        return allocator.buffer(string: head + "\r\n" + body)
    }

    /// Answers a request the HTTP decoder could not parse with 400 (see ``HTTPParseErrorResponder``).
    func refuseUnparsable() {
        guard let context = self.context else { return }
        if case .lingering = self.mode { return }
        self.fail(.http(.badRequest, "The request is not valid HTTP/1.1."), context: context)
    }

    // MARK: Timeouts

    func armTimer(context: ChannelHandlerContext) {
        guard self.timer == nil, self.started else { return }
        let deadline: NIODeadline
        switch self.mode {
        case .head:
            deadline = (self.head.bytes == 0 ? self.idleSince : self.phaseStarted) + TimeAmount(self.limits.requestHeadTimeout)
        case .webSocket where !self.frames.sawMessage:
            deadline = self.phaseStarted + TimeAmount(self.limits.requestHeadTimeout)
        default:
            return
        }
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timer = nil
            self.timerFired(context: context)
        }
    }

    func timerFired(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        let timeout = TimeAmount(self.limits.requestHeadTimeout)
        switch self.mode {
        case .head where self.head.bytes == 0:
            if self.idleSince + timeout > .now() { return self.armTimer(context: context) }
            self.fail(.silent, context: context)
        case .head:
            if self.phaseStarted + timeout > .now() { return self.armTimer(context: context) }
            self.fail(.http(.requestTimeout, "The request head did not arrive within \(self.limits.requestHeadTimeout)."), context: context)
        case .webSocket where !self.frames.sawMessage:
            if self.phaseStarted + timeout > .now() { return self.armTimer(context: context) }
            self.fail(.webSocket(1008, "no request"), context: context)
        default:
            // Reading a body or a logged-in WebSocket: the timer is armed again when a head is awaited.
            break
        }
        if case .head = self.mode, self.timer == nil, context.channel.isActive { self.armTimer(context: context) }
    }

    // MARK: Keep-alive

    /// Pings the client every `interval` from now on; a ping still unanswered when the next is due closes the
    /// connection with 1001. An event-loop timer per connection instead of a task (a task keeps its stack's memory).
    func startKeepAlive(every interval: TimeAmount) {
        guard let context = self.context, self.pingTimer == nil, case .webSocket = self.mode else { return }
        self.pingTimer = context.eventLoop.assumeIsolated().scheduleTask(in: interval) {
            self.pingTimer = nil
            guard case .webSocket = self.mode, context.channel.isActive else { return }
            if self.awaitingPong { return self.fail(.webSocket(1001, "ping timeout"), context: context) }
            self.awaitingPong = true
            // FIN, opcode 9 (ping), no payload: the client answers with an empty pong.
            context.writeAndFlush(self.wrapOutboundOut(.byteBuffer(context.channel.allocator.buffer(bytes: [0x89, 0x00]))), promise: nil)
            self.startKeepAlive(every: interval)
        }
    }

    func stopKeepAlive() {
        self.pingTimer?.cancel()
        self.pingTimer = nil
    }

    /// Starts ``startKeepAlive(every:)`` on `channel`'s guard, from outside its event loop (once the WebSocket is open).
    static func startKeepAlive(on channel: any Channel, every interval: Duration) {
        channel.eventLoop.execute {
            (try? channel.pipeline.syncOperations.handler(type: ConnectionGuard.self))?.startKeepAlive(every: TimeAmount(interval))
        }
    }

    // MARK: HTTP request heads

    struct HeadState {
        /// Bytes of this head so far (blank lines before it not counted).
        var bytes = 0
        var line: [UInt8] = []
        var lineBytes = 0
        var lastByte: UInt8 = 0
        var sawRequestLine = false
        var fields = 0
        var contentLengths: [Substring] = []
        var transferCodings: [Substring] = []
        var upgradeWebSocket = false
        var connectionUpgrade = false
    }

    func readHead(_ bytes: UnsafeRawBufferPointer, _ offset: inout Int) -> Failure? {
        while offset < bytes.count {
            let byte = bytes[offset]
            offset += 1
            if byte != UInt8(ascii: "\n") {
                if self.head.bytes == 0 { self.phaseStarted = .now() }
                self.head.bytes += 1
                self.head.lineBytes += 1
                self.head.lastByte = byte
                if !self.head.sawRequestLine, self.head.lineBytes > self.limits.maxRequestLineBytes {
                    return .http(.uriTooLong, "The request line is longer than \(self.limits.maxRequestLineBytes) bytes.")
                }
                if self.head.bytes > self.limits.maxRequestHeadBytes {
                    return .http(.requestHeaderFieldsTooLarge, "The request head is larger than \(self.limits.maxRequestHeadBytes) bytes.")
                }
                // Only header lines are looked into, and those that matter are short.
                if self.head.sawRequestLine, self.head.line.count < 1_024 { self.head.line.append(byte) }
                continue
            }
            if self.head.bytes > 0 { self.head.bytes += 1 }
            var line = self.head.line[...]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            let blank = self.head.lineBytes == 0 || (self.head.lineBytes == 1 && self.head.lastByte == UInt8(ascii: "\r"))
            self.head.line.removeAll(keepingCapacity: true)
            self.head.lineBytes = 0
            if !self.head.sawRequestLine {
                // Blank lines before a request line are ignored (RFC 9112, 2.2).
                if !blank { self.head.sawRequestLine = true }
                continue
            }
            if blank { return self.headComplete() }
            self.head.fields += 1
            if self.head.fields > self.limits.maxHeaderFields {
                return .http(.requestHeaderFieldsTooLarge, "The request has more than \(self.limits.maxHeaderFields) header fields.")
            }
            self.readField(String(decoding: line, as: UTF8.self))
        }
        return nil
    }

    func readField(_ line: String) {
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon]
        // Most fields (Host, the WebSocket key, User-Agent…) are none of the four looked into: their names are told
        // apart by length first, so those fields cost no lowercasing and no splitting.
        func named(_ field: String) -> Bool { name.utf8.count == field.utf8.count && name.lowercased() == field }
        let value = line[line.index(after: colon)...]
        var tokens: [Substring] {
            value.split(separator: ",").map { Self.trimmed($0).lowercased()[...] }
        }
        if named("content-length") {
            self.head.contentLengths += value.split(separator: ",", omittingEmptySubsequences: false).map(Self.trimmed)
        } else if named("transfer-encoding") {
            self.head.transferCodings += tokens
        } else if named("upgrade") {
            self.head.upgradeWebSocket = self.head.upgradeWebSocket || tokens.contains("websocket")
        } else if named("connection") {
            self.head.connectionUpgrade = self.head.connectionUpgrade || tokens.contains("upgrade")
        }
    }

    /// `text` without the spaces and tabs around it (a field value's optional white space, RFC 9110 5.6.3).
    static func trimmed(_ text: Substring) -> Substring {
        var text = text.drop { $0 == " " || $0 == "\t" }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }

    /// A head has been read: check its framing, then expect its body, the next head, or WebSocket frames.
    func headComplete() -> Failure? {
        let head = self.head
        self.head = HeadState()
        self.requestsRead += 1
        if !head.contentLengths.isEmpty, !head.transferCodings.isEmpty {
            return .http(.badRequest, "A request may not have both Content-Length and Transfer-Encoding.")
        }
        var length = 0
        if let first = head.contentLengths.first {
            guard head.contentLengths.allSatisfy({ $0 == first }), (1...18).contains(first.count),
                first.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let value = Int(first)
            else {
                return .http(.badRequest, "Content-Length must be one non-negative integer.")
            }
            length = value
        }
        if !head.transferCodings.isEmpty, head.transferCodings != ["chunked"] {
            return .http(.badRequest, "The only transfer coding accepted is chunked.")
        }
        self.idleSince = .now()
        if head.upgradeWebSocket, head.connectionUpgrade {
            self.mode = .webSocket
            self.phaseStarted = .now()
        } else if !head.transferCodings.isEmpty {
            self.mode = .chunked
            self.chunks = ChunkState()
        } else if length > 0 {
            self.mode = .body(remaining: length)
        }
        return nil
    }

    // MARK: Chunked bodies

    struct ChunkState {
        enum Phase { case size, data(Int), dataEnd, trailer }
        var phase = Phase.size
        var line: [UInt8] = []
        var trailerBytes = 0
    }

    func readChunked(_ bytes: UnsafeRawBufferPointer, _ offset: inout Int) -> Failure? {
        while offset < bytes.count, case .chunked = self.mode {
            switch self.chunks.phase {
            case .data(let remaining):
                let taken = min(remaining, bytes.count - offset)
                offset += taken
                self.chunks.phase = remaining == taken ? .dataEnd : .data(remaining - taken)
                continue
            case .size, .dataEnd, .trailer:
                break
            }
            let byte = bytes[offset]
            offset += 1
            if byte != UInt8(ascii: "\n") {
                self.chunks.line.append(byte)
                if case .trailer = self.chunks.phase {
                    self.chunks.trailerBytes += 1
                    if self.chunks.trailerBytes > self.limits.maxRequestHeadBytes {
                        return .http(.requestHeaderFieldsTooLarge, "The request's trailer is larger than \(self.limits.maxRequestHeadBytes) bytes.")
                    }
                } else if self.chunks.line.count > 1_024 {
                    return .http(.badRequest, "A chunk size line is too long.")
                }
                continue
            }
            var line = self.chunks.line[...]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            self.chunks.line.removeAll(keepingCapacity: true)
            switch self.chunks.phase {
            case .size:
                let digits = line.prefix { $0 != UInt8(ascii: ";") }
                let text = String(decoding: digits, as: UTF8.self).trimmingCharacters(in: .whitespaces)
                guard (1...15).contains(text.count), let size = Int(text, radix: 16) else {
                    return .http(.badRequest, "A chunk size is not a hexadecimal number.")
                }
                self.chunks.phase = size == 0 ? .trailer : .data(size)
            case .dataEnd:
                guard line.isEmpty else { return .http(.badRequest, "A chunk is longer than its size.") }
                self.chunks.phase = .size
            case .trailer:
                if line.isEmpty {
                    self.mode = .head
                    self.idleSince = .now()
                }
            case .data:
                break
            }
        }
        return nil
    }

}

extension ConnectionGuard {
    /// The admission of the connection on `channel` (uncounted if it has no guard).
    static func admission(of channel: any Channel) async -> ConnectionAdmission {
        let admission = try? await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: ConnectionGuard.self).admission
        }.get()
        return admission ?? .uncounted()
    }
}
