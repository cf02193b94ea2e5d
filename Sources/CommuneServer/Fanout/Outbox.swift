import NIOCore
import NIOWebSocket
import Synchronization

/// One connection's queue of frames to send: filled by anyone, written to the socket on the connection's event
/// loop.
///
/// Frames arrive already framed (``WebSocketTextFrame``), so a broadcast frames its JSON once for every
/// recipient, and the bytes go past the WebSocket encoder straight to the socket (``RawFrameWriter``). Whatever
/// piles up until the event loop's next flush round (``LoopFlusher``) is written with one flush (one `writev`).
///
/// The queue is bounded in bytes: frames queued here plus frames handed to the socket that the kernel has not
/// taken yet. A connection that falls that far behind is closed as a slow consumer and its frames are dropped,
/// so it never stalls the sender or the other members.
final class Outbox: Sendable {
    private struct State {
        var frames: [ByteBuffer] = []
        /// Bytes queued here or written and not yet taken by the kernel.
        var unsentBytes = 0
        /// How many of ``frames`` are updates (the rest are replies), for the deliveries count.
        var queuedUpdates = 0
        var drainScheduled = false
        var finished = false
        var closeRequest: (WebSocketErrorCode, String)?
        var overflowed = false
    }

    /// What ``enqueue(_:scheduleDrain:)`` did with a frame.
    enum Enqueued {
        /// Queued; a drain is already due.
        case queued
        /// Queued; the caller must have ``drain()`` run on ``eventLoop`` (through the ``flusher``).
        case needsDrain
        /// Dropped: the connection is closing, or just overflowed.
        case dropped
    }

    private let state = Mutex(State())
    private let writer: NIOLoopBound<RawFrameWriter>
    let flusher: LoopFlusher
    var eventLoop: any EventLoop { self.flusher.eventLoop }
    let limitBytes: Int
    /// The connection's place in the connection limits; told when its member logs in.
    let admission: ConnectionAdmission
    /// The server's count of bytes waiting and of deliveries; this outbox keeps its share in step.
    private let metrics: FanoutMetrics
    /// Sends the close frame after what is queued; called once, on ``eventLoop``, for the first close request.
    private let closer: @Sendable (WebSocketErrorCode, String) -> Void

    init(
        writer: NIOLoopBound<RawFrameWriter>, flusher: LoopFlusher, limitBytes: Int, admission: ConnectionAdmission = .uncounted(),
        metrics: FanoutMetrics = .disabled, closer: @escaping @Sendable (WebSocketErrorCode, String) -> Void
    ) {
        self.writer = writer
        self.flusher = flusher
        self.limitBytes = limitBytes
        self.admission = admission
        self.metrics = metrics
        self.closer = closer
    }

    deinit {
        // Frames still queued when the connection ended were never written.
        self.metrics.released(bytes: self.state.withLock { $0.unsentBytes })
    }

    /// Queues a framed reply and makes sure it is written soon.
    func send(_ frame: ByteBuffer) {
        if case .needsDrain = self.enqueue(frame, isUpdate: false) {
            self.flusher.schedule(self)
        }
    }

    /// Queues a framed update (counted as a delivery once written). On ``Enqueued/needsDrain`` the caller hands the
    /// outbox to its ``flusher`` (the hub does that once per event loop for a whole broadcast).
    func enqueue(_ frame: ByteBuffer) -> Enqueued {
        self.enqueue(frame, isUpdate: true)
    }

    /// Queues a framed message: an update (a delivery once written) or a reply.
    func enqueue(_ frame: ByteBuffer, isUpdate: Bool) -> Enqueued {
        let (result, overflowed) = self.state.withLock { state -> (Enqueued, Bool) in
            guard !state.finished, state.closeRequest == nil else { return (.dropped, false) }
            if state.unsentBytes + frame.readableBytes > self.limitBytes {
                // What was queued and never written no longer waits (what the socket has is counted off as it completes).
                let dropped = state.frames.reduce(0) { $0 + $1.readableBytes }
                state.unsentBytes -= dropped
                self.metrics.released(bytes: dropped)
                state.frames.removeAll()
                state.queuedUpdates = 0
                state.overflowed = true
                state.closeRequest = (.policyViolation, "slow consumer")
                return (.dropped, true)
            }
            state.frames.append(frame)
            state.unsentBytes += frame.readableBytes
            if isUpdate { state.queuedUpdates += 1 }
            self.metrics.queued(bytes: frame.readableBytes)
            if state.drainScheduled { return (.queued, false) }
            state.drainScheduled = true
            return (.needsDrain, false)
        }
        if overflowed { self.requestClose(.policyViolation, "slow consumer") }
        return result
    }

    /// Writes every queued frame to the socket with one flush. Runs on ``eventLoop``.
    func drain() {
        let (frames, updates) = self.state.withLock { state -> ([ByteBuffer], Int) in
            state.drainScheduled = false
            let frames = state.frames
            let updates = state.queuedUpdates
            state.frames = []
            state.queuedUpdates = 0
            return (frames, updates)
        }
        guard !frames.isEmpty else { return }
        let bytes = frames.reduce(0) { $0 + $1.readableBytes }
        let promise = self.eventLoop.makePromise(of: Void.self)
        self.writer.value.write(frames, promise: promise)
        if updates > 0 { self.metrics.delivered(updates) }
        promise.futureResult.whenComplete { _ in
            self.state.withLock { $0.unsentBytes -= bytes }
            self.metrics.released(bytes: bytes)
        }
    }

    /// Asks for the connection to be closed with `code` after what is queued. Later frames are dropped.
    func close(code: WebSocketErrorCode, reason: String) {
        let first = self.state.withLock { state -> Bool in
            guard state.closeRequest == nil, !state.finished else { return false }
            state.closeRequest = (code, reason)
            return true
        }
        if first { self.requestClose(code, reason) }
    }

    /// Has the ``closer`` send the close frame on the event loop, after the frames queued before it.
    private func requestClose(_ code: WebSocketErrorCode, _ reason: String) {
        self.eventLoop.execute {
            self.drain()
            self.closer(code, reason)
        }
    }

    /// Ends the queue (the socket closed): nothing more is sent, and a later close request does nothing.
    func finish() {
        self.state.withLock { $0.finished = true }
    }

    var didOverflow: Bool { self.state.withLock { $0.overflowed } }
}

/// Frames a text message for a server-to-client WebSocket: FIN, opcode text, unmasked, then the payload.
enum WebSocketTextFrame {
    static func make(_ payload: [UInt8], allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        let count = payload.count
        var buffer = allocator.buffer(capacity: count + 10)
        buffer.writeInteger(UInt8(0x81))  // FIN, opcode 1 (text)
        switch count {
        case ..<126:
            buffer.writeInteger(UInt8(count))
        case ...Int(UInt16.max):
            buffer.writeMultipleIntegers(UInt8(126), UInt16(count))
        default:
            buffer.writeMultipleIntegers(UInt8(127), UInt64(count))
        }
        buffer.writeBytes(payload)
        return buffer
    }
}

/// Sits first in a WebSocket connection's pipeline, so that already-framed bytes go straight to the socket,
/// past the frame encoder. Frames the WebSocket handler writes itself (pings, pongs, close) pass through it
/// untouched. Used on the channel's event loop only.
final class RawFrameWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = Any
    typealias OutboundOut = Any

    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Writes the frames and flushes once; `promise` completes when the last one is written (or failed).
    func write(_ frames: [ByteBuffer], promise: EventLoopPromise<Void>) {
        guard let context = self.context else {
            promise.fail(ChannelError.ioOnClosedChannel)
            return
        }
        for frame in frames.dropLast() {
            context.write(NIOAny(frame), promise: nil)
        }
        context.write(NIOAny(frames[frames.count - 1]), promise: promise)
        context.flush()
    }
}
