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
final class ConnectionHub: Sendable {
    private struct Entry {
        let member: UUIDString
        let outbox: Outbox
    }

    private let connections = Mutex<[ConnectionID: Entry]>([:])
    private let counter = Atomic<UInt64>(0)
    /// Update ids: a random base for this process plus a counter (unique without a system call per update).
    private let updateIDBase: (high: UInt64, low: UInt64)
    private let updateCounter = Atomic<UInt64>(0)

    /// Resolves audiences to members (who holds a permission, who sees a channel).
    private let community: Community

    init(community: Community) {
        self.community = community
        var generator = SystemRandomNumberGenerator()
        self.updateIDBase = (generator.next(), generator.next())
    }

    func makeConnectionID() -> ConnectionID {
        ConnectionID(self.counter.add(1, ordering: .relaxed).newValue)
    }

    /// A connection's member logged in: it receives updates, and leaves the pool of connections not logged in.
    func add(_ id: ConnectionID, member: UUIDString, outbox: Outbox) {
        outbox.admission.loggedIn()
        self.connections.withLock { $0[id] = Entry(member: member, outbox: outbox) }
    }

    func remove(_ id: ConnectionID) {
        _ = self.connections.withLock { $0.removeValue(forKey: id) }
    }

    var count: Int { self.connections.withLock { $0.count } }

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

    /// Sends `update` to the logged-in connections in `audience`.
    func publish(_ update: FunctionResult, to audience: Audience) {
        let recipients = self.community.recipients(of: audience)
        let excluded = audience.excluded
        let outboxes: [Outbox] = self.connections.withLock { connections in
            switch recipients {
            case .connection(let id):
                guard id != excluded, let entry = connections[id] else { return [] }
                return [entry.outbox]
            case .everyone:
                return connections.compactMap { id, entry in id == excluded ? nil : entry.outbox }
            case .members(let members):
                return connections.compactMap { id, entry in id == excluded || !members.contains(entry.member) ? nil : entry.outbox }
            }
        }
        guard !outboxes.isEmpty else { return }
        let envelope = Envelope(
            type: .update, id: self.nextUpdateID(), logLevel: .debug, logMessage: "\(update.codec) update",
            data: update.data
        )
        let frame = WebSocketTextFrame.make(envelope.jsonBytes)
        // One flush round per event loop writes to every recipient on it that had nothing queued yet.
        var due: [ObjectIdentifier: (flusher: LoopFlusher, outboxes: [Outbox])] = [:]
        for outbox in outboxes {
            guard case .needsDrain = outbox.enqueue(frame) else { continue }
            due[ObjectIdentifier(outbox.flusher), default: (outbox.flusher, [])].outboxes.append(outbox)
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
        let outboxes = self.connections.withLock { connections in
            connections.values.filter { $0.member == member }.map(\.outbox)
        }
        for outbox in outboxes {
            outbox.close(code: .policyViolation, reason: reason)
        }
    }
}
