import CommuneCore
import CommuneProtocol
import GRDB

/// Appends messages with group commit (``GroupCommit``): every send waiting while a transaction runs goes into the
/// next one, and each caller resumes only after its own message is committed.
final class MessageWriter: Sendable {
    private let pool: DatabasePool
    /// At most 1,000 messages a transaction.
    private let queue = GroupCommit<NewMessage, AppendedMessage>(maxBatch: 1_000)

    /// Where each commit's duration and stored messages are reported.
    private let metrics: StoreMetrics

    init(pool: DatabasePool, metrics: StoreMetrics = .disabled) {
        self.pool = pool
        self.metrics = metrics
    }

    /// Queues the message (then tells a pipelining connection, ``PipelinedWrite/queued()``) and returns once it is
    /// committed.
    ///
    /// The batch is written on GRDB's writer queue, not on the leading caller's thread: a synchronous write there
    /// (tried for issue 16, to save the two thread hops per commit) holds the concurrency pool's thread for the
    /// commit, so no other send is decoded and queued meanwhile and every batch is one message (ingest with 2 senders
    /// fell from about 5,000 to 2,000 acknowledged messages/s).
    func append(_ message: NewMessage) async throws -> AppendedMessage {
        try await self.queue.submit(message) { messages in
            try await self.metrics.measuringCommit(
                { try await self.pool.write { db in try Self.insert(messages, db: db) } }, newMessages: { $0.count(where: \.isNew) }
            )
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
                let newest = try db.cachedStatement(sql: "SELECT max(message_id) FROM messages WHERE channel_id = ?")
                id = (try Int64.fetchOne(newest, arguments: [message.channelID]) ?? 0) + 1
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
        let statement = try db.cachedStatement(
            sql: "SELECT channel_id, \(SQLiteStore.messageColumns) FROM messages WHERE sender_id = ? AND sender_number = ?"
        )
        guard let row = try Row.fetchOne(statement, arguments: [sender.value, number]) else { return nil }
        return SQLiteStore.message(row, channelID: row["channel_id"])
    }
}
