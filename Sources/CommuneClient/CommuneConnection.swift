import CommuneProtocol
import Crypto
import Foundation
import Logging
import NIOCore
import Synchronization
import NIOWebSocket
import WSClient

/// One WebSocket connection to a community: requests with replies matched by `id`, and a stream of everything else.
///
/// ```swift
/// let connection = try await CommuneConnection.connect(to: "ws://127.0.0.1:1984/")
/// try await connection.register(identity, invite: link.code, username: "alice")
/// let welcome = try await connection.login(identity)
/// try await connection.sendMessage("hello", to: ChannelAddress(path: "General", name: "General"))
/// for await update in connection.updates { … }
/// ```
public final class CommuneConnection: Sendable {
    /// A request waiting for its reply.
    private enum Waiter {
        /// Sent (or being sent); nobody waits yet.
        case expecting
        /// The reply came before anybody waited for it.
        case arrived(Envelope)
        case awaiting(CheckedContinuation<Envelope, any Error>)
    }

    private struct State {
        var pending: [String: Waiter] = [:]
        var outbound: WebSocketOutboundWriter?
        var closed: CommuneClientError?
        var nextID: UInt64 = 0
        /// Where the login joined the stream of updates, and the newest position received since.
        var stream: StreamPoint?
        var position: Int64 = 0
    }

    private let state = Mutex(State())
    private let logger: Logger
    /// Server frames that answer no pending request: updates, and errors without an `id`.
    public let events: AsyncStream<Envelope>
    private let eventsContinuation: AsyncStream<Envelope>.Continuation
    /// How long a request waits for its reply.
    public let requestTimeout: Duration

    private init(logger: Logger, requestTimeout: Duration) {
        self.logger = logger
        self.requestTimeout = requestTimeout
        (self.events, self.eventsContinuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// Only `update` envelopes, as function results.
    public var updates: AsyncCompactMapSequence<AsyncStream<Envelope>, FunctionResult> {
        self.events.compactMap { envelope in
            guard envelope.type == .update else { return nil }
            return try? FunctionResult(data: envelope.data)
        }
    }

    /// Opens a connection. `url` is the community's WebSocket URL (`ws://host:port/`) or its base/invite URL.
    public static func connect(
        to url: String,
        requestTimeout: Duration = .seconds(30),
        logger: Logger = Logger(label: "commune.client")
    ) async throws -> CommuneConnection {
        let webSocketURL: String
        if url.hasPrefix("ws://") || url.hasPrefix("wss://") {
            webSocketURL = url
        } else if let link = InviteLink(url) {
            webSocketURL = link.webSocketURL
        } else if url.hasPrefix("http://") || url.hasPrefix("https://") {
            webSocketURL = InviteLink.webSocketURL(forBase: url)
        } else {
            throw CommuneClientError.invalidURL(url)
        }
        let connection = CommuneConnection(logger: logger, requestTimeout: requestTimeout)
        try await connection.start(url: webSocketURL)
        return connection
    }

    private func start(url: String) async throws {
        let readiness = ReadySignal()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            readiness.continuation.withLock { $0 = continuation }
            Task {
                var failure: CommuneClientError = .connectionClosed(code: nil, reason: nil)
                do {
                    let closeFrame = try await WebSocketClient.connect(
                        url: url,
                        configuration: .init(maxFrameSize: 1 << 20, closeTimeout: .seconds(5)),
                        logger: self.logger
                    ) { inbound, outbound, _ in
                        self.state.withLock { $0.outbound = outbound }
                        readiness.continuation.withLock { $0.take() }?.resume()
                        for try await message in inbound.messages(maxSize: 1 << 20) {
                            if case .text(let text) = message { self.dispatch(text) }
                        }
                    }
                    if let closeFrame {
                        failure = .connectionClosed(code: Int(UInt16(webSocketErrorCode: closeFrame.closeCode)), reason: closeFrame.reason)
                    }
                } catch {
                    self.logger.debug("Connection ended: \(error)")
                    readiness.continuation.withLock { $0.take() }?.resume(throwing: error)
                }
                readiness.continuation.withLock { $0.take() }?.resume(throwing: failure)
                self.finish(failure)
            }
        }
    }

    private func dispatch(_ text: String) {
        guard let envelope = try? Envelope(json: text) else {
            self.logger.warning("The server sent a frame that is not an envelope")
            return
        }
        enum Delivery { case resume(CheckedContinuation<Envelope, any Error>), kept, event }
        let delivery = self.state.withLock { state -> Delivery in
            if let position = envelope.position { state.position = max(state.position, position) }
            guard let id = envelope.id, let waiter = state.pending[id] else { return .event }
            switch waiter {
            case .awaiting(let continuation):
                state.pending[id] = nil
                return .resume(continuation)
            case .expecting:
                state.pending[id] = .arrived(envelope)
                return .kept
            case .arrived:
                return .event
            }
        }
        switch delivery {
        case .resume(let continuation): continuation.resume(returning: envelope)
        case .kept: break
        case .event: self.eventsContinuation.yield(envelope)
        }
    }

    private func finish(_ error: CommuneClientError) {
        let pending = self.state.withLock { state in
            state.closed = state.closed ?? error
            state.outbound = nil
            let pending = state.pending
            state.pending = [:]
            return pending
        }
        for case .awaiting(let continuation) in pending.values { continuation.resume(throwing: error) }
        self.eventsContinuation.finish()
    }

    /// Where this connection stands in the community's stream of updates: give it to ``login(_:communityKey:resume:)``
    /// on the next connection to get the updates missed in between. `nil` before login.
    public var resumePoint: ResumePoint? {
        self.state.withLock { state in
            state.stream.map { ResumePoint(stream: $0.id, position: max(state.position, $0.position), connection: $0.connection) }
        }
    }

    /// Records where the login joined the stream (updates received meanwhile count).
    func joined(_ stream: StreamPoint?) {
        self.state.withLock { state in
            state.stream = stream
            if let stream { state.position = max(state.position, stream.position) }
        }
    }

    /// Why the connection closed, once it has.
    public var closeError: CommuneClientError? { self.state.withLock { $0.closed } }

    /// Sends a text frame as it is (for tests of bad input).
    public func sendRaw(_ text: String) async throws {
        guard let outbound = self.state.withLock({ $0.outbound }) else {
            throw self.closeError ?? .connectionClosed(code: nil, reason: nil)
        }
        try await outbound.write(.text(text))
    }

    /// Sends a binary frame (for tests of bad input).
    public func sendBinary(_ bytes: [UInt8]) async throws {
        guard let outbound = self.state.withLock({ $0.outbound }) else {
            throw self.closeError ?? .connectionClosed(code: nil, reason: nil)
        }
        try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
    }

    /// Sends `envelope` and waits for the frame with the same `id`, assigning an id when it has none.
    ///
    /// - Throws: ``CommuneError`` when the server answers with an `error`; ``CommuneClientError`` when the
    ///   connection closes or no reply comes within ``requestTimeout``.
    public func request(_ envelope: Envelope) async throws -> Envelope {
        var envelope = envelope
        let id = envelope.id ?? self.state.withLock { state in
            state.nextID += 1
            return "c\(state.nextID)"
        }
        envelope.id = id
        let timeout = self.requestTimeout
        let type = envelope.type
        let sent = envelope
        // The reply or the timeout, whichever comes first; the loser is cancelled (no task outlives the request).
        let reply: Envelope = try await withThrowingTaskGroup(of: Envelope?.self) { group in
            group.addTask { try await self.exchange(sent, id: id) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            if let first { return first }
            self.abandon(id, with: .timedOut("\(type)"))
            throw CommuneClientError.timedOut("\(type)")
        }
        if let error = CommuneError(envelope: reply) { throw error }
        return reply
    }

    /// Sends `envelope` and waits for the frame answering `id`.
    private func exchange(_ envelope: Envelope, id: String) async throws -> Envelope {
        let outbound = self.state.withLock { state -> WebSocketOutboundWriter? in
            guard state.closed == nil, let outbound = state.outbound else { return nil }
            state.pending[id] = .expecting
            return outbound
        }
        guard let outbound else { throw self.closeError ?? .connectionClosed(code: nil, reason: nil) }
        do {
            try await outbound.write(.text(envelope.jsonString))
        } catch {
            _ = self.state.withLock { $0.pending.removeValue(forKey: id) }
            throw error
        }
        return try await withCheckedThrowingContinuation { continuation in
            let early = self.state.withLock { state -> Result<Envelope, CommuneClientError>? in
                switch state.pending[id] {
                case .arrived(let reply)?:
                    state.pending[id] = nil
                    return .success(reply)
                case .expecting?:
                    state.pending[id] = .awaiting(continuation)
                    return nil
                case .awaiting?, nil:
                    // Abandoned (timed out) or the connection closed meanwhile.
                    return .failure(state.closed ?? .connectionClosed(code: nil, reason: nil))
                }
            }
            if let early { continuation.resume(with: early) }
        }
    }

    /// Gives up waiting for `id`'s reply.
    private func abandon(_ id: String, with error: CommuneClientError) {
        let waiter = self.state.withLock { $0.pending.removeValue(forKey: id) }
        if case .awaiting(let continuation)? = waiter { continuation.resume(throwing: error) }
    }

    /// Closes the connection.
    public func close() async {
        let outbound = self.state.withLock { $0.outbound }
        try? await outbound?.close(.normalClosure, reason: nil)
    }
}

/// Resumes `connect` once: when the socket is open, or with the reason it could not open.
private final class ReadySignal: Sendable {
    let continuation = Mutex<CheckedContinuation<Void, any Error>?>(nil)
}
