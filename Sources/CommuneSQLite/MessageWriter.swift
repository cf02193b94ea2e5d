import CommuneCore
import CommuneProtocol
import GRDB
import Synchronization

/// Appends messages with group commit: every send waiting while a transaction runs goes into the next one.
///
/// Under load many senders share one commit, so durable ingest is bounded by transactions per second times batch
/// size rather than by one commit per message. Each caller resumes only after its own message is committed.
///
/// No task of its own: the caller whose message heads the queue writes the batch it heads (its own message and
/// those queued behind it), resumes the others in it, and hands the lead to the first message still waiting.
final class MessageWriter: Sendable {
    private enum Turn: Sendable {
        case committed(AppendedMessage)
        /// Your message heads the queue: write the next batch.
        case lead
    }

    private struct Pending: Sendable {
        let message: NewMessage
        /// `nil` for the leader's own message (the leader is not waiting: it is writing).
        var continuation: CheckedContinuation<Turn, any Error>?
    }

    private struct State {
        var queue: [Pending] = []
        /// A caller is writing a batch, or has been handed the lead.
        var leading = false
    }

    private let pool: DatabasePool
    private let state = Mutex(State())
    /// The most messages one transaction takes.
    private let maxBatch = 1_000

    init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Queues the message (then tells a pipelining connection, ``PipelinedWrite/queued()``) and returns once it is
    /// committed.
    func append(_ message: NewMessage) async throws -> AppendedMessage {
        let leads = self.state.withLock { state in
            guard !state.leading else { return false }
            state.leading = true
            state.queue.append(Pending(message: message, continuation: nil))
            return true
        }
        if leads {
            PipelinedWrite.queued()
            return try await self.writeBatch()
        }
        let turn = try await withCheckedThrowingContinuation { continuation in
            let leadsNow = self.state.withLock { state in
                if state.leading {
                    state.queue.append(Pending(message: message, continuation: continuation))
                    return false
                }
                // The leader finished between the two locks: lead now.
                state.leading = true
                state.queue.append(Pending(message: message, continuation: nil))
                return true
            }
            PipelinedWrite.queued()
            if leadsNow { continuation.resume(returning: .lead) }
        }
        switch turn {
        case .committed(let appended): return appended
        case .lead: return try await self.writeBatch()
        }
    }

    /// Writes the batch the caller's message heads, resumes the other callers in it, and hands the lead on.
    private func writeBatch() async throws -> AppendedMessage {
        let batch: [Pending] = self.state.withLock { state in
            let count = min(state.queue.count, self.maxBatch)
            let batch = Array(state.queue.prefix(count))
            state.queue.removeFirst(count)
            return batch
        }
        let outcome: Result<[AppendedMessage], any Error>
        do {
            let messages = batch.map(\.message)
            outcome = .success(try await self.pool.write { db in try Self.insert(messages, db: db) })
        } catch {
            outcome = .failure(error)
        }
        // The lead passes on before anyone resumes, so that the next batch starts without waiting for them.
        let next: CheckedContinuation<Turn, any Error>? = self.state.withLock { state in
            guard !state.queue.isEmpty else {
                state.leading = false
                return nil
            }
            let continuation = state.queue[0].continuation
            state.queue[0].continuation = nil
            return continuation
        }
        next?.resume(returning: .lead)
        switch outcome {
        case .success(let stored):
            for (pending, message) in zip(batch.dropFirst(), stored.dropFirst()) {
                pending.continuation?.resume(returning: .committed(message))
            }
            return stored[0]
        case .failure(let error):
            for pending in batch.dropFirst() {
                pending.continuation?.resume(throwing: error)
            }
            throw error
        }
    }

    private static func insert(_ messages: [NewMessage], db: Database) throws -> [AppendedMessage] {
        var nextID: [Int64: Int64] = [:]
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO messages (
                    channel_id, message_id, sender_id, body, send_time, kind, attachments, sender_number, reply_to, mentions, mentions_everyone
                ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        let mention = try db.cachedStatement(sql: "INSERT OR IGNORE INTO mentions (user_id, channel_id, message_id) VALUES (?, ?, ?)")
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
                StoredColumns.encode(attachments: message.attachments), message.senderNumber, message.replyTo,
                StoredColumns.encode(mentions: message.mentions), message.mentionsEveryone,
            ])
            for member in message.mentions { try mention.execute(arguments: [member.value, message.channelID, id]) }
            if message.mentionsEveryone { try mention.execute(arguments: ["", message.channelID, id]) }
            let stored = StoredMessage(
                channelID: message.channelID, messageID: id, senderID: message.senderID, text: message.text, sendTime: message.sendTime,
                kind: message.kind, attachments: message.attachments, replyTo: message.replyTo, mentions: message.mentions,
                mentionsEveryone: message.mentionsEveryone
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
