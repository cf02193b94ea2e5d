import CommuneCore
import CommuneProtocol
import GRDB
import Synchronization

/// Appends messages with group commit: every send waiting while a transaction runs goes into the next one.
///
/// Under load many senders share one commit, so durable ingest is bounded by transactions per second times batch
/// size rather than by one commit per message. Each caller resumes only after its own message is committed.
final class MessageWriter: Sendable {
    private struct Pending: Sendable {
        let message: NewMessage
        let continuation: CheckedContinuation<AppendedMessage, any Error>
    }

    private struct State {
        var queue: [Pending] = []
        var draining = false
    }

    private let pool: DatabasePool
    private let state = Mutex(State())
    /// The most messages one transaction takes.
    private let maxBatch = 1_000

    init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Queues the message (then calls `onQueued`) and returns once it is committed.
    func append(_ message: NewMessage, onQueued: @Sendable () -> Void = {}) async throws -> AppendedMessage {
        try await withCheckedThrowingContinuation { continuation in
            let startDrain = self.state.withLock { state in
                state.queue.append(Pending(message: message, continuation: continuation))
                if state.draining { return false }
                state.draining = true
                return true
            }
            onQueued()
            if startDrain {
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while true {
            let batch: [Pending] = self.state.withLock { state in
                if state.queue.isEmpty {
                    state.draining = false
                    return []
                }
                let count = min(state.queue.count, self.maxBatch)
                let batch = Array(state.queue.prefix(count))
                state.queue.removeFirst(count)
                return batch
            }
            if batch.isEmpty { return }
            let messages = batch.map(\.message)
            do {
                let stored = try await self.pool.write { db in try Self.insert(messages, db: db) }
                for (pending, message) in zip(batch, stored) {
                    pending.continuation.resume(returning: message)
                }
            } catch {
                for pending in batch {
                    pending.continuation.resume(throwing: error)
                }
            }
        }
    }

    private static func insert(_ messages: [NewMessage], db: Database) throws -> [AppendedMessage] {
        var nextID: [Int64: Int64] = [:]
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO messages (channel_id, message_id, sender_id, body, send_time, kind, attachments, sender_number)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        return try messages.map { message in
            if let number = message.senderNumber, let earlier = try Self.existing(sender: message.senderID, number: number, db: db) {
                return AppendedMessage(message: earlier, isNew: false)
            }
            let id: Int64
            if let known = nextID[message.channelID] {
                id = known
            } else {
                id = (try Int64.fetchOne(
                    db, sql: "SELECT max(message_id) FROM messages WHERE channel_id = ?", arguments: [message.channelID]
                ) ?? 0) + 1
            }
            nextID[message.channelID] = id + 1
            try statement.execute(arguments: [
                message.channelID, id, message.senderID.value, message.text, message.sendTime, message.kind.rawValue,
                SQLiteStore.encode(attachments: message.attachments), message.senderNumber,
            ])
            let stored = StoredMessage(
                channelID: message.channelID, messageID: id, senderID: message.senderID, text: message.text, sendTime: message.sendTime,
                kind: message.kind, attachments: message.attachments
            )
            return AppendedMessage(message: stored, isNew: true)
        }
    }

    /// The message `sender` stored earlier under `number`, in whichever channel.
    private static func existing(sender: UUIDString, number: Int64, db: Database) throws -> StoredMessage? {
        guard let row = try Row.fetchOne(
            db,
            sql: "SELECT channel_id, \(SQLiteStore.messageColumns) FROM messages WHERE sender_id = ? AND sender_number = ?",
            arguments: [sender.value, number]
        ) else { return nil }
        return SQLiteStore.message(row, channelID: row["channel_id"])
    }
}
