import CommuneCore
import CommuneProtocol
import NIOCore
import Synchronization

/// The logged-in connections of this server, and the fan-out of updates to them.
///
/// An update is encoded to JSON once, into one buffer, and that same buffer is queued on every recipient's
/// ``Outbox`` (ByteBuffer is copy-on-write, so recipients share the bytes).
final class ConnectionHub: UpdatePublisher {
    private struct Entry {
        let member: UUIDString
        let outbox: Outbox
    }

    private let connections = Mutex<[ConnectionID: Entry]>([:])
    private let counter = Atomic<UInt64>(0)

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
            type: .update, id: UUIDString.random().value, logLevel: .debug, logMessage: "\(update.codec) update",
            data: update.data
        )
        let frame = ByteBuffer(bytes: envelope.jsonBytes)
        let recipients = self.connections.withLock { connections in
            connections.compactMap { id, entry in id == excluded ? nil : entry.outbox }
        }
        for outbox in recipients {
            outbox.enqueue(frame)
        }
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
