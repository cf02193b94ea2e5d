import NIOCore
import NIOWebSocket
import Synchronization

/// One connection's queue of frames to send, written by anyone, drained by the connection's writer task.
///
/// Broadcasting only appends an already-encoded buffer here, so a slow reader never stalls the sender or the
/// other members. The queue is bounded in bytes: a connection that falls that far behind is told to close as a
/// slow consumer, and its frames are dropped.
final class Outbox: Sendable {
    enum Next: Sendable {
        case frames([ByteBuffer])
        case close(WebSocketErrorCode, String)
        case finished
    }

    private struct State {
        var frames: [ByteBuffer] = []
        var bytes = 0
        var waiter: CheckedContinuation<Void, Never>?
        var finished = false
        var closeRequest: (WebSocketErrorCode, String)?
        var overflowed = false
    }

    private let state = Mutex(State())
    let limitBytes: Int

    init(limitBytes: Int) {
        self.limitBytes = limitBytes
    }

    /// Queues a frame. Returns `false` if the connection is closing or just overflowed.
    @discardableResult
    func enqueue(_ frame: ByteBuffer) -> Bool {
        let (accepted, waiter) = self.state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !state.finished, state.closeRequest == nil else { return (false, nil) }
            if state.bytes + frame.readableBytes > self.limitBytes {
                state.frames.removeAll()
                state.bytes = 0
                state.overflowed = true
                state.closeRequest = (.policyViolation, "slow consumer")
            } else {
                state.frames.append(frame)
                state.bytes += frame.readableBytes
            }
            let waiter = state.waiter
            state.waiter = nil
            return (!state.overflowed, waiter)
        }
        waiter?.resume()
        return accepted
    }

    /// Asks the writer to send what is queued, then close with `code`. Later frames are dropped.
    func close(code: WebSocketErrorCode, reason: String) {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.closeRequest == nil { state.closeRequest = (code, reason) }
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Ends the queue: the writer sends what is queued and stops.
    func finish() {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    var didOverflow: Bool { self.state.withLock { $0.overflowed } }

    /// Waits for frames, a close request or the end. Returns `.finished` when the task is cancelled.
    func next() async -> Next {
        while true {
            let ready: Next? = self.state.withLock { state in
                if !state.frames.isEmpty {
                    let frames = state.frames
                    state.frames = []
                    state.bytes = 0
                    return .frames(frames)
                }
                if let (code, reason) = state.closeRequest { return .close(code, reason) }
                if state.finished { return .finished }
                return nil
            }
            if let ready { return ready }
            if Task.isCancelled { return .finished }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = self.state.withLock { state -> Bool in
                        if !state.frames.isEmpty || state.closeRequest != nil || state.finished { return true }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                self.finish()
            }
        }
    }
}
