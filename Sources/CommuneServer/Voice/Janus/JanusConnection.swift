import CommuneProtocol
import HTTPTypes
import Logging
import NIOWebSocket
import Synchronization
import WSClient

/// One WebSocket to Janus's API (subprotocol `janus-protocol`). Each request carries a transaction and waits, for
/// a bounded time, for its reply: `success`/`error`, or for an asynchronous plugin request the `event` after the
/// `ack`. Everything else Janus pushes (media up, hang-ups, plugin notifications) comes out of ``events``.
final class JanusConnection: Sendable {
    /// Janus's pushes that answer no request, in the order they arrived; finishes when the connection closes.
    let events: AsyncStream<JSONValue>
    private let eventsContinuation: AsyncStream<JSONValue>.Continuation
    private let logger: Logger

    private struct Pending {
        var continuation: CheckedContinuation<Result<JSONValue, JanusError>, Never>
        /// An asynchronous plugin request: its `ack` is not the answer.
        var waitsForEvent: Bool
        var timer: Task<Void, Never>?
    }

    private struct State {
        var outbound: WebSocketOutboundWriter?
        var task: Task<Void, Never>?
        var pending: [String: Pending] = [:]
        var closed = false
        var nextTransaction = 0
    }

    private let state = Mutex(State())

    private init(logger: Logger) {
        self.logger = logger
        (self.events, self.eventsContinuation) = AsyncStream.makeStream(of: JSONValue.self)
    }

    /// The largest frame taken from Janus (an SDP with its candidates is a few KiB).
    static let maxFrameBytes = 1 << 20

    /// Connects to Janus's WebSocket API at `url` (`ws://127.0.0.1:8188/`).
    static func connect(url: String, timeout: Duration = .seconds(5), logger: Logger) async throws(JanusError) -> JanusConnection {
        let connection = JanusConnection(logger: logger)
        let opened = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let signal = OpenSignal(continuation)
            let timer = Task {
                try? await Task.sleep(for: timeout)
                signal.resume(false)
            }
            let task = Task {
                do {
                    try await WebSocketClient.connect(
                        url: url,
                        configuration: .init(
                            maxFrameSize: Self.maxFrameBytes,
                            additionalHeaders: [.secWebSocketProtocol: "janus-protocol"],
                            closeTimeout: .seconds(2)
                        ),
                        logger: logger
                    ) { inbound, outbound, _ in
                        let open = connection.state.withLock { state in
                            state.outbound = outbound
                            return !state.closed
                        }
                        timer.cancel()
                        signal.resume(open)
                        guard open else { return }
                        for try await message in inbound.messages(maxSize: Self.maxFrameBytes) {
                            guard case .text(let text) = message else { continue }
                            connection.dispatch(text)
                        }
                    }
                } catch {
                    logger.debug("The connection to Janus ended: \(error)")
                }
                signal.resume(false)
                connection.finish()
            }
            connection.state.withLock { $0.task = task }
        }
        guard opened else {
            connection.close()
            throw .closed
        }
        return connection
    }

    /// Resumes the opening's continuation once: opened, failed, or timed out.
    private final class OpenSignal: Sendable {
        private let continuation: Mutex<CheckedContinuation<Bool, Never>?>

        init(_ continuation: CheckedContinuation<Bool, Never>) { self.continuation = Mutex(continuation) }

        func resume(_ opened: Bool) { self.continuation.withLock { $0.take() }?.resume(returning: opened) }
    }

    var isClosed: Bool { self.state.withLock { $0.closed } }

    /// Sends `message` with a new transaction and returns Janus's answer (an `error` answer is thrown). With
    /// `waitForEvent`, the answer is the plugin's `event` that follows the `ack`.
    func request(_ message: [String: JSONValue], waitForEvent: Bool = false, timeout: Duration = .seconds(10)) async throws(JanusError) -> JSONValue {
        let name = message["janus"]?.stringValue ?? "?"
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<JSONValue, JanusError>, Never>) in
            let started = self.state.withLock { state -> (String, WebSocketOutboundWriter)? in
                guard !state.closed, let outbound = state.outbound else { return nil }
                state.nextTransaction += 1
                let transaction = "c\(state.nextTransaction)"
                state.pending[transaction] = Pending(continuation: continuation, waitsForEvent: waitForEvent)
                return (transaction, outbound)
            }
            guard let (transaction, outbound) = started else {
                continuation.resume(returning: .failure(.closed))
                return
            }
            let timer = Task {
                do { try await Task.sleep(for: timeout) } catch { return }
                self.complete(transaction, with: .failure(.timedOut(name)))
            }
            self.state.withLock { $0.pending[transaction]?.timer = timer }
            var framed = message
            framed["transaction"] = .string(transaction)
            let text = JSONValue.object(framed).jsonString
            Task {
                do {
                    try await outbound.write(.text(text))
                } catch {
                    self.complete(transaction, with: .failure(.closed))
                }
            }
        }
        let reply = try result.get()
        if reply["janus"]?.stringValue == "error" {
            throw .refused(code: reply["error"]?["code"]?.intValue ?? 0, reason: reply["error"]?["reason"]?.stringValue ?? "")
        }
        return reply
    }

    /// Closes the connection; pending requests fail with ``JanusError/closed``.
    func close() {
        let (outbound, task) = self.state.withLock { state in
            state.closed = true
            return (state.outbound, state.task)
        }
        if let outbound {
            Task {
                try? await outbound.close(.normalClosure, reason: nil)
                task?.cancel()
            }
        } else {
            task?.cancel()
        }
        self.finish()
    }

    private func dispatch(_ text: String) {
        let value: JSONValue
        do {
            value = try JSONValue.parse(text)
        } catch {
            self.logger.warning("Janus sent a frame that is not JSON: \(error)")
            return
        }
        if let transaction = value["transaction"]?.stringValue {
            let isAck = value["janus"]?.stringValue == "ack"
            let answers = self.state.withLock { state in
                guard let pending = state.pending[transaction] else { return false }
                return !(isAck && pending.waitsForEvent)
            }
            if answers {
                self.complete(transaction, with: .success(value))
                return
            }
            if isAck { return }
        }
        self.eventsContinuation.yield(value)
    }

    private func complete(_ transaction: String, with result: Result<JSONValue, JanusError>) {
        guard let pending = self.state.withLock({ $0.pending.removeValue(forKey: transaction) }) else { return }
        pending.timer?.cancel()
        pending.continuation.resume(returning: result)
    }

    private func finish() {
        let pending = self.state.withLock { state in
            state.closed = true
            state.outbound = nil
            let pending = state.pending
            state.pending = [:]
            return pending
        }
        for waiter in pending.values {
            waiter.timer?.cancel()
            waiter.continuation.resume(returning: .failure(.closed))
        }
        self.eventsContinuation.finish()
    }
}
