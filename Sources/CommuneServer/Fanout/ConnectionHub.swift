import CommuneCore
import CommuneProtocol
import NIOCore
import Synchronization

/// The logged-in connections of this server, and the fan-out of updates to them.
///
/// An update is encoded to JSON and framed once, into one buffer, and that same buffer is queued on every
/// recipient's ``Outbox`` (ByteBuffer is copy-on-write, so recipients share the bytes). The recipients are then
/// written to by their event loop's ``LoopFlusher``, each with one flush.
final class ConnectionHub: UpdatePublisher {
    private struct Entry {
        let member: UUIDString
        let outbox: Outbox
    }

    private let connections = Mutex<[ConnectionID: Entry]>([:])
    private let counter = Atomic<UInt64>(0)
    /// Update ids: a random base for this process plus a counter (unique without a system call per update).
    private let updateIDBase: (high: UInt64, low: UInt64)
    private let updateCounter = Atomic<UInt64>(0)

    init() {
        var generator = SystemRandomNumberGenerator()
        self.updateIDBase = (generator.next(), generator.next())
    }

    func makeConnectionID() -> ConnectionID {
        ConnectionID(self.counter.add(1, ordering: .relaxed).newValue)
    }

    func add(_ id: ConnectionID, member: UUIDString, outbox: Outbox) {
        self.connections.withLock { $0[id] = Entry(member: member, outbox: outbox) }
    }

    func remove(_ id: ConnectionID) {
        _ = self.connections.withLock { $0.removeValue(forKey: id) }
    }

    var count: Int { self.connections.withLock { $0.count } }

    func publish(_ update: FunctionResult, excluding excluded: ConnectionID?) {
        let envelope = Envelope(
            type: .update, id: self.nextUpdateID(), logLevel: .debug, logMessage: "\(update.codec) update",
            data: update.data
        )
        let frame = WebSocketTextFrame.make(envelope.jsonBytes)
        let recipients = self.connections.withLock { connections in
            connections.compactMap { id, entry in id == excluded ? nil : entry.outbox }
        }
        // One flush round per event loop writes to every recipient on it that had nothing queued yet.
        var due: [ObjectIdentifier: (flusher: LoopFlusher, outboxes: [Outbox])] = [:]
        for outbox in recipients {
            guard case .needsDrain = outbox.enqueue(frame) else { continue }
            due[ObjectIdentifier(outbox.flusher), default: (outbox.flusher, [])].outboxes.append(outbox)
        }
        for (flusher, outboxes) in due.values {
            flusher.schedule(outboxes)
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
