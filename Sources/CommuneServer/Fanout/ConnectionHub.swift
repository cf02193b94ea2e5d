import CommuneCore
import CommuneProtocol
import NIOCore
import NIOWebSocket
import Synchronization

/// The logged-in connections of this server, and the fan-out of updates to them: the one place an ``Effect``'s
/// updates and disconnects are carried out, each update to the connections its ``Audience`` names.
///
/// An update is encoded to JSON and framed once, into one buffer, and that same buffer is queued on every
/// recipient's ``Outbox`` (ByteBuffer is copy-on-write, so recipients share the bytes). The recipients are then
/// written to by their event loop's ``LoopFlusher``, each with one flush.
///
/// Updates to members get consecutive positions in the community's stream (``UpdateLog``), given and queued under
/// one lock, so every connection receives its updates in position order; a login that resumes is queued its
/// missed updates and joins the recipients under the same lock, so nothing falls between the two.
final class ConnectionHub: Sendable {
    private struct Entry {
        let member: UUIDString
        let outbox: Outbox
    }

    private struct State {
        var connections: [ConnectionID: Entry] = [:]
        var log: UpdateLog
    }

    private let state: Mutex<State>
    private let counter = Atomic<UInt64>(0)
    /// Update ids: a random base for this process plus a counter (unique without a system call per update).
    private let updateIDBase: (high: UInt64, low: UInt64)
    private let updateCounter = Atomic<UInt64>(0)

    /// Resolves audiences to members (who holds a permission, who sees a channel).
    private let community: Community

    init(community: Community, configuration: ServerConfiguration = ServerConfiguration()) {
        self.community = community
        var generator = SystemRandomNumberGenerator()
        self.updateIDBase = (generator.next(), generator.next())
        let streamID = UUIDString(high: generator.next(), low: generator.next()).value
        self.state = Mutex(
            State(
                log: UpdateLog(id: streamID, maxEntries: configuration.resumeWindowUpdates, maxBytes: configuration.resumeWindowBytes)
            )
        )
    }

    func makeConnectionID() -> ConnectionID {
        ConnectionID(self.counter.add(1, ordering: .relaxed).newValue)
    }

    /// A connection's member logged in: `reply` (the `identification_response`) is queued with where this login
    /// joins the stream and, when the client asked to `resume`, the answer and the updates it missed after it;
    /// then the connection receives updates, and leaves the pool of connections not logged in.
    @discardableResult
    func add(
        _ id: ConnectionID, member: UUIDString, outbox: Outbox, reply: Envelope = Envelope(type: .identificationResponse),
        resume: ResumePoint? = nil
    ) -> ResumeOutcome? {
        outbox.admission.loggedIn()
        let encoded = reply.jsonBytes
        var needsDrain = false
        let outcome = self.state.withLock { state -> ResumeOutcome? in
            let stream = StreamPoint(id: state.log.id, position: state.log.position, connection: String(id.rawValue))
            var missed: [ByteBuffer] = []
            var outcome: ResumeOutcome?
            if let resume {
                switch state.log.missed(since: resume, by: member, byteLimit: outbox.limitBytes / 2) {
                case .success(let frames):
                    missed = frames
                    outcome = .resumed(missed: frames.count)
                case .failure(let refusal):
                    outcome = .refetch(reason: refusal.reason)
                }
            }
            let bytes: [UInt8] =
                if let outcome {
                    Envelope.adding(dataFields: ["stream": stream.data, "resume": outcome.data], to: encoded)
                } else {
                    Envelope.adding(dataFields: ["stream": stream.data], to: encoded)
                }
            // The reply is not counted as a delivery; the updates a resume missed are.
            if case .needsDrain = outbox.enqueue(WebSocketTextFrame.make(bytes), isUpdate: false) { needsDrain = true }
            for frame in missed {
                if case .needsDrain = outbox.enqueue(frame) { needsDrain = true }
            }
            state.connections[id] = Entry(member: member, outbox: outbox)
            return outcome
        }
        if needsDrain { outbox.flusher.schedule(outbox) }
        return outcome
    }

    func remove(_ id: ConnectionID) {
        _ = self.state.withLock { $0.connections.removeValue(forKey: id) }
    }

    var count: Int { self.state.withLock { $0.connections.count } }

    /// Carries out what a handler decided besides its reply: closes the connections of removed members, then
    /// pushes each update to its audience.
    func apply(_ effect: Effect) {
        for disconnect in effect.disconnects {
            self.disconnect(member: disconnect.member, reason: disconnect.reason)
        }
        for update in effect.updates {
            self.publish(update.result, to: update.audience)
        }
    }

    /// Sends `update` to the logged-in connections in `audience`; an update to members takes the stream's next
    /// position (one meant for a single connection has none and is not kept).
    func publish(_ update: FunctionResult, to audience: Audience) {
        let recipients = self.community.recipients(of: audience)
        let excluded = audience.excluded
        let encoded = Envelope(
            type: .update, id: self.nextUpdateID(), logLevel: .debug, logMessage: "\(update.codec) update",
            data: update.data
        ).jsonBytes
        // One flush round per event loop writes to every recipient on it that had nothing queued yet.
        var due: [ObjectIdentifier: (flusher: LoopFlusher, outboxes: [Outbox])] = [:]
        self.state.withLock { state in
            let frame: ByteBuffer
            let outboxes: [Outbox]
            switch recipients {
            case .connection(let id):
                guard id != excluded, let entry = state.connections[id] else { return }
                frame = WebSocketTextFrame.make(encoded)
                outboxes = [entry.outbox]
            case .everyone:
                frame = state.log.append(recipients: recipients, excluded: excluded) {
                    WebSocketTextFrame.make(Envelope.adding(position: $0, to: encoded))
                }
                outboxes = state.connections.compactMap { id, entry in id == excluded ? nil : entry.outbox }
            case .members(let members):
                frame = state.log.append(recipients: recipients, excluded: excluded) {
                    WebSocketTextFrame.make(Envelope.adding(position: $0, to: encoded))
                }
                outboxes = state.connections.compactMap { id, entry in
                    id == excluded || !members.contains(entry.member) ? nil : entry.outbox
                }
            }
            for outbox in outboxes {
                guard case .needsDrain = outbox.enqueue(frame) else { continue }
                due[ObjectIdentifier(outbox.flusher), default: (outbox.flusher, [])].outboxes.append(outbox)
            }
        }
        for (flusher, waiting) in due.values {
            flusher.schedule(waiting)
        }
    }

    private func nextUpdateID() -> String {
        let count = self.updateCounter.add(1, ordering: .relaxed).newValue
        return UUIDString(high: self.updateIDBase.high, low: self.updateIDBase.low &+ count).value
    }

    func disconnect(member: UUIDString, reason: String) {
        let outboxes = self.state.withLock { state in
            state.connections.values.filter { $0.member == member }.map(\.outbox)
        }
        for outbox in outboxes {
            outbox.close(code: .policyViolation, reason: reason)
        }
    }
}
