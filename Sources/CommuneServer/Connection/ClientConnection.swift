import CommuneCore
import CommuneProtocol
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Synchronization

/// One client's WebSocket session: reads requests in order, answers through its ``Outbox``.
///
/// The protocol state lives in ``SessionStateMachine``; this type does the I/O around it, applies each request's
/// ``Effect`` in request order (handlers know nothing of ordering), and is the one place a ``CommuneError`` becomes
/// an `error` envelope.
final class ClientConnection: Sendable {
    let id: ConnectionID
    let outbox: Outbox
    let community: Community
    let hub: ConnectionHub
    let configuration: ServerConfiguration
    /// The server's logger; ``logger`` adds this connection's id when something is logged (a logger kept with its
    /// own metadata cost each idle connection about 1 KiB).
    private let serverLogger: Logger
    var logger: Logger {
        var logger = self.serverLogger
        logger[metadataKey: "connection"] = "\(self.id)"
        return logger
    }

    /// Internal, not private, so that the connection's extensions in other files (ClientConnection+Handshake.swift)
    /// reach it.
    struct State {
        var session = SessionStateMachine()
        var consecutiveErrors = 0
        /// A request decided that the connection closes: read no more.
        var mustClose = false
        /// This connection's requests, against ``RateLimits/requestsPerConnection``.
        var requests: TokenBucket?
        /// The user id the last `identification` named (a failed answer counts against it).
        var challengedUser: UUIDString?
        /// Requests held back by a rate limit in a row.
        var delayedInARow = 0
        /// Where the last `identification` asked to resume the stream of updates.
        var resume: ResumePoint?
        /// Messages read and not yet started (at most ``maxQueuedMessages`` before reading pauses).
        var inbox: [WebSocketMessage] = []
        /// A task is running requests (``drive()``); it ends when none is left.
        var driving = false
        /// Reading is paused until the inbox empties.
        var readsPaused = false
        /// The socket closed: nothing more is read, and the connection ends once its requests have finished.
        var ended = false
        /// What the waiting driver is woken by: a message read, a request finished, the socket closed.
        var wake: OneShotSignal?
        var loginTimer: Scheduled<Void>?
    }

    let state = Mutex(State())

    /// The client's source address (its IP, or the one a trusted proxy forwarded), for per-address limits.
    let address: String
    /// The server's rate limits; `nil` when they are off.
    let limiter: RequestLimiter?
    /// Where logins are counted.
    let metrics: ServerMetrics
    /// Lets the socket's handler read again after ``deliver(_:)`` asked it to pause.
    private let resumeReading: @Sendable () -> Void

    init(
        id: ConnectionID, outbox: Outbox, community: Community, hub: ConnectionHub, configuration: ServerConfiguration,
        address: String = "unknown", limiter: RequestLimiter? = nil, metrics: ServerMetrics, logger: Logger,
        resumeReading: @escaping @Sendable () -> Void
    ) {
        self.resumeReading = resumeReading
        self.id = id
        self.address = address
        self.limiter = limiter
        self.metrics = metrics
        self.outbox = outbox
        self.community = community
        self.hub = hub
        self.configuration = configuration
        self.serverLogger = logger
    }

    var member: Member? { self.state.withLock { $0.session.member } }

    /// Starts the login timeout: an event-loop timer, not a task.
    func start() {
        let timer = self.outbox.eventLoop.scheduleTask(in: TimeAmount(self.configuration.loginTimeout)) {
            if self.member == nil {
                self.logger.debug("Closing: no login within the timeout")
                self.outbox.close(code: .policyViolation, reason: "login timeout")
            }
        }
        self.state.withLock { $0.loginTimer = timer }
    }

    /// A message read from the socket (``ProtocolSocketHandler``, on the event loop). Its request runs in a task
    /// started when a message arrives and ended when none is left, so an idle connection holds no task (a task
    /// keeps the stack it once used until it ends); the task runs on this event loop (``EventLoopTaskExecutor``). `true`: enough are waiting; read no more until
    /// ``resumeReading`` is called.
    func deliver(_ message: WebSocketMessage) -> Bool {
        let (startDriver, wake, pause) = self.state.withLock { state -> (Bool, OneShotSignal?, Bool) in
            guard !state.mustClose, !state.ended else { return (false, nil, false) }
            state.inbox.append(message)
            let wake = state.wake
            state.wake = nil
            if state.inbox.count >= Self.maxQueuedMessages { state.readsPaused = true }
            defer { state.driving = true }
            return (!state.driving, wake, state.readsPaused)
        }
        wake?.open()
        if startDriver { Task(executorPreference: EventLoopTaskExecutor(self.outbox.eventLoop)) { await self.drive() } }
        return pause
    }

    /// The socket closed: the messages read before still run (their replies go nowhere), and the connection ends
    /// once they have finished.
    func inputEnded() {
        self.outbox.finish()
        let (idle, wake, timer) = self.state.withLock { state -> (Bool, OneShotSignal?, Scheduled<Void>?) in
            state.ended = true
            let wake = state.wake
            state.wake = nil
            defer { state.driving = true }
            return (!state.driving, wake, state.loginTimer)
        }
        timer?.cancel()
        wake?.open()
        if idle { Task(executorPreference: EventLoopTaskExecutor(self.outbox.eventLoop)) { await self.disconnected() } }
    }

    /// Runs requests while there are any (see ``runRequests()``), then ends; after the socket closed, ends the
    /// connection.
    private func drive() async {
        while true {
            await self.runRequests()
            let ended = self.state.withLock { state -> Bool? in
                if state.ended { return true }
                if !state.inbox.isEmpty, !state.mustClose { return nil }
                state.driving = false
                return false
            }
            switch ended {
            case true?:
                // Messages read before the socket closed that a running request's end left waiting.
                if self.state.withLock({ !$0.inbox.isEmpty && !$0.mustClose }) { continue }
                await self.disconnected()
                return
            case false?:
                return
            case nil:
                continue
            }
        }
    }

    /// Runs the waiting requests in order until none is waiting or running. A pipelined function
    /// (``FunctionSpec/pipelined``, such as a message send) lets the next request start once its write is queued in
    /// the store (``PipelinedWrite``), so up to ``maxPipelinedRequests`` sends share commits; everything else runs
    /// after the requests before it have finished. Replies, updates and errors always go out in request order.
    ///
    /// Each request runs in a child task of a discarding group, so that a finished request's task (and the stack it
    /// used) is freed at once.
    private func runRequests() async {
        await withDiscardingTaskGroup { group in
            var previous = (applied: OneShotSignal.opened, finished: OneShotSignal.opened)
            // The requests started and not known to have finished, oldest first: at most maxPipelinedRequests.
            var inFlight: [OneShotSignal] = []
            while let message = await self.nextMessage(inFlight: &inFlight) {
                if inFlight.count >= Self.maxPipelinedRequests {
                    await inFlight.removeFirst().wait()
                }
                let started = OneShotSignal()
                let finished = OneShotSignal()
                let applied = OneShotSignal()
                let predecessor = previous
                previous = (applied, finished)
                inFlight.append(finished)
                group.addTask {
                    if await !self.receive(message, after: predecessor.finished, applied: predecessor.applied, signalling: applied, started: started) {
                        self.state.withLock { $0.mustClose = true }
                    }
                    started.open()
                    applied.open()
                    finished.open()
                    self.wakeDriver()
                }
                await started.wait()
            }
        }
    }

    /// The next message to run, waiting for one while requests are still running; `nil` when none is waiting and
    /// none running, or the connection stops reading.
    private func nextMessage(inFlight: inout [OneShotSignal]) async -> WebSocketMessage? {
        while true {
            inFlight.removeAll { $0.isOpen }
            let running = inFlight
            let wake = OneShotSignal()
            let (next, resume) = self.state.withLock { state -> (WebSocketMessage??, Bool) in
                if state.mustClose { return (.some(nil), false) }
                if !state.inbox.isEmpty {
                    let message = state.inbox.removeFirst()
                    let resume = state.readsPaused && state.inbox.count <= Self.maxQueuedMessages / 2
                    if resume { state.readsPaused = false }
                    return (.some(message), resume)
                }
                // A request that finishes after this look wakes the driver through `wake`.
                if running.allSatisfy(\.isOpen) || state.ended { return (.some(nil), false) }
                state.wake = wake
                return (nil, false)
            }
            if resume { self.resumeReading() }
            if let next { return next }
            await wake.wait()
        }
    }

    private func wakeDriver() {
        let wake = self.state.withLock { state -> OneShotSignal? in
            defer { state.wake = nil }
            return state.wake
        }
        wake?.open()
    }

    /// The most messages waiting to start before reading pauses.
    static let maxQueuedMessages = 16

    /// The most requests one connection has in flight at once.
    static let maxPipelinedRequests = 64

    private func disconnected() async {
        self.hub.remove(self.id)
        let member = self.state.withLock { state -> Member? in
            let member = state.session.member
            state.session.close()
            return member
        }
        if let member {
            for update in await self.community.callConnectionClosed(self.id, member: member.id) {
                self.hub.publish(update.result, to: update.audience)
            }
        }
        if let member, self.community.connectionClosed(by: member.id) {
            self.hub.presenceChanged(member.id, online: false)
        }
        self.logger.debug("Connection closed")
    }

    // MARK: Requests

    /// What a request produced, to apply once the connection's earlier requests have been answered.
    private enum Outcome {
        /// A reply envelope (or nothing, when the handler sent it itself).
        case reply(Envelope?)
        /// A function's effect: its updates go out, then its reply answers `id`.
        case effect(Effect, id: String?)
        case failure(CommuneError)
    }

    /// Handles one inbound message; `false` when the connection must close. Runs once `predecessor` (the
    /// connection's previous request) has finished, unless it is a pipelined function, which starts at once and
    /// opens `started` when its write is queued; either way its outcome is applied only after `predecessor`'s
    /// (`predecessorApplied`), and its reply sent after `predecessor`'s. A function's effect opens `applied` once
    /// its updates are queued: with several nodes the reply waits for the cluster's stream to commit them, and the
    /// next request's updates may be queued meanwhile (one stream transaction carries many).
    func receive(
        _ message: WebSocketMessage, after predecessor: OneShotSignal = .opened, applied predecessorApplied: OneShotSignal = .opened,
        signalling applied: OneShotSignal? = nil, started: OneShotSignal? = nil
    ) async -> Bool {
        let envelope: Envelope
        switch self.envelope(of: message) {
        case .success(let parsed):
            envelope = parsed
        case .failure(let error):
            await predecessor.wait()
            // Answer the request it was meant to be whenever its id can be read.
            let header = Self.header(of: message)
            return self.failed(error, id: header.id, type: header.type)
        }
        if let refusal = await self.admit(envelope) {
            await predecessor.wait()
            return self.failed(refusal, id: envelope.id, type: envelope.type)
        }
        var request: Result<FunctionRequest, CommuneError>?
        if envelope.type == .function {
            do throws(CommuneError) {
                request = .success(try FunctionRequest(data: envelope.data))
            } catch {
                request = .failure(error)
            }
        }
        let pipelined = if case .success(let call)? = request { self.community.isPipelined(call) } else { false }
        if !pipelined { await predecessor.wait() }
        let outcome = await PipelinedWrite.withSignal({ started?.open() }) {
            do throws(CommuneError) {
                if let request {
                    return Outcome.effect(try await self.perform(request), id: envelope.id)
                }
                return Outcome.reply(try await self.handle(envelope))
            } catch {
                return Outcome.failure(error)
            }
        }
        if case .effect = outcome {
            await predecessorApplied.wait()
        } else {
            await predecessor.wait()
        }
        self.countLogin(envelope.type, outcome)
        switch outcome {
        case .reply(let reply):
            self.state.withLock { $0.consecutiveErrors = 0 }
            if let reply { self.send(reply) }
            return true
        case .effect(let effect, let id):
            self.state.withLock { $0.consecutiveErrors = 0 }
            if let committed = self.hub.apply(effect) {
                applied?.open()
                await committed.wait()
                await predecessor.wait()
            }
            self.send(Envelope(type: .function, id: id, logLevel: .debug, logMessage: "ran function", data: effect.reply.data))
            return true
        case .failure(let error) where error.code == .challengeFailed:
            self.limiter?.loginFailed(user: self.state.withLock { $0.challengedUser }, address: self.address)
            self.send(error.envelope(replyingTo: envelope.id, requestType: envelope.type))
            self.outbox.close(code: .policyViolation, reason: "challenge_failed")
            return false
        case .failure(let error):
            return self.failed(error, id: envelope.id, type: envelope.type)
        }
    }

    /// Counts a login's end: a solved challenge, a wrong answer, or an identification or answer refused otherwise.
    private func countLogin(_ type: MessageType, _ outcome: Outcome) {
        guard type == .challengeResponse || type == .identification else { return }
        switch outcome {
        case .reply where type == .challengeResponse: self.metrics.login(.success)
        case .failure(let error) where error.code == .challengeFailed: self.metrics.login(.failed)
        case .failure: self.metrics.login(.refused)
        case .reply, .effect: break
        }
    }

    /// Runs a `function` request for the logged-in member (who must be logged in before the request is read).
    private func perform(_ request: Result<FunctionRequest, CommuneError>) async throws(CommuneError) -> Effect {
        let member = try self.currentMember()
        let context = FunctionContext(member: member, connection: self.id, community: self.community)
        return try await self.community.perform(request.get(), context: context)
    }

    /// The request in a frame, or why there is none.
    private func envelope(of message: WebSocketMessage) -> Result<Envelope, CommuneError> {
        let text: String
        switch message {
        case .text(let string):
            text = string
        case .binary:
            return .failure(.badJSON("Binary frames are not supported; send JSON text frames."))
        }
        if text.utf8.count > self.configuration.maxRequestBytes {
            return .failure(
                .init(.tooLarge, "The frame has \(text.utf8.count) bytes; the limit is \(self.configuration.maxRequestBytes).")
            )
        }
        do {
            return .success(try Envelope(json: text))
        } catch {
            return .failure(error)
        }
    }

    /// The `id` and `type` of a frame that is not a readable envelope, read leniently (``EnvelopeHeader``).
    private static func header(of message: WebSocketMessage) -> EnvelopeHeader {
        switch message {
        case .text(let text): EnvelopeHeader(scanning: text)
        case .binary(let buffer): EnvelopeHeader(scanning: Array(buffer.readableBytesView))
        }
    }

    /// The logged-in member as the community knows them now (their group may have changed since login).
    private func currentMember() throws(CommuneError) -> Member {
        let session = try self.state.withLock { state throws(CommuneError) in try state.session.requireMember() }
        guard let member = self.community.member(session.id) else {
            self.outbox.close(code: .policyViolation, reason: "no longer a member")
            throw .init(.notAuthenticated, "You are no longer a member of this community.")
        }
        return member
    }

    /// Sends an error; closes the connection after too many malformed requests in a row.
    private func failed(_ error: CommuneError, id: String?, type: MessageType?) -> Bool {
        self.send(error.envelope(replyingTo: id, requestType: type))
        // Malformed requests, and requests refused for going too fast, close a connection that keeps sending them.
        guard error.code.isMalformedRequest || error.code == .rateLimited else { return true }
        let errors = self.state.withLock { state in
            state.consecutiveErrors += 1
            return state.consecutiveErrors
        }
        if errors >= self.configuration.maxConsecutiveErrors {
            self.logger.notice("Closing after \(errors) failed requests in a row")
            self.outbox.close(code: .policyViolation, reason: "too many errors")
            return false
        }
        return true
    }

    /// Applies the rate limits before a request runs: `nil` to go on (after waiting, when the request was a little
    /// over a limit), or the `rate_limited` error to answer with.
    private func admit(_ envelope: Envelope) async -> CommuneError? {
        guard let limiter = self.limiter else { return nil }
        let limits = limiter.limits
        let user = envelope.type == .identification ? envelope.data["user_id"]?.stringValue.flatMap(UUIDString.init) : nil
        let (connectionWait, member) = self.state.withLock { state in
            if user != nil { state.challengedUser = user }
            let now = ContinuousClock.now
            var bucket = state.requests ?? TokenBucket(limits.requestsPerConnection, now: now)
            let wait = bucket.reserve(limits.requestsPerConnection, now: now, maxDelay: limits.maxDelay)
            state.requests = bucket
            return (wait, state.session.member?.id)
        }
        let decisions = [
            limiter.decide(connectionWait, "requests on this connection"),
            limiter.admit(
                envelope.type, function: envelope.data["function"]?.stringValue, member: member, user: user, address: self.address
            ),
        ]
        var delay = Duration.zero
        for decision in decisions {
            switch decision {
            case .proceed: continue
            case .delay(let wait): delay = max(delay, wait)
            case .refuse(let error): return error
            }
        }
        let delayed = self.state.withLock { state in
            state.delayedInARow = delay > .zero ? state.delayedInARow + 1 : 0
            return state.delayedInARow
        }
        if delayed > limits.maxDelayedInARow {
            return RequestLimiter.refusal("requests in a row over the limit", wait: delay)
        }
        if delay > .zero { try? await Task.sleep(for: delay) }
        return nil
    }

    private func send(_ envelope: Envelope) {
        self.outbox.send(WebSocketTextFrame.make(envelope.jsonBytes))
    }
}
