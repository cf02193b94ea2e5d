import CommuneCore
import CommuneProtocol
import Logging
import PostgresNIO

/// A message waiting for its group commit, and the records of the cluster's stream it brings when it is new.
struct PendingMessage: Sendable {
    var message: NewMessage
    var records: (@Sendable (StoredMessage) -> [ClusterRecord])?
}

/// Messages: appended with group commit (``GroupCommit``: the sends that arrive while a transaction runs share the
/// next one, each acknowledged only after its commit, `synchronous_commit` as the database has it), ids dense per
/// channel even with several nodes appending to one channel (the transaction that appends locks the channel's
/// `channel_heads` row, then advances it), read and paged by id like the SQLite store.
///
/// The new messages' records of the cluster's stream (``appendMessage(_:records:)``) are appended at the end of the
/// same transaction (``PostgresClusterStream/append(_:on:logger:)``: the stream's row is locked last, and held only for
/// the append and the commit), so one commit stores a batch and puts its updates in the stream, and the batch's
/// notifications go out at that commit.
extension PostgresStore: StreamingMessageStore {
    public func appendMessage(_ message: NewMessage) async throws -> AppendedMessage {
        try await self.append(PendingMessage(message: message, records: nil))
    }

    public func appendMessage(
        _ message: NewMessage, records: @escaping @Sendable (StoredMessage) -> [ClusterRecord]
    ) async throws -> AppendedMessage {
        try await self.append(PendingMessage(message: message, records: records))
    }

    private func append(_ pending: PendingMessage) async throws -> AppendedMessage {
        try await self.messageQueue.submit(pending) { batch in
            try await self.metrics.measuringCommit({ try await self.writeMessages(batch) }, newMessages: { $0.count(where: \.isNew) })
        }
    }

    /// Writes one batch in one transaction, retrying it (a bounded number of times) when the database refused it for
    /// a reason a second try resolves: another node stored the same sender's number at the same moment (the retry
    /// finds it and answers with it), a deadlock or a serialization failure.
    private func writeMessages(_ messages: [PendingMessage]) async throws -> [AppendedMessage] {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await self.transaction { connection in
                    let appended = try await Self.insert(messages.map(\.message), connection: connection, logger: self.logger)
                    // The records of the messages stored now, in the batch's order (a resend brings none).
                    var records: [ClusterRecord] = []
                    for (pending, result) in zip(messages, appended) where result.isNew {
                        if let make = pending.records { records += make(result.message) }
                    }
                    if !records.isEmpty { try await PostgresClusterStream.append(records, on: connection, logger: self.logger) }
                    return appended
                }
            } catch let error where attempt < 4 && Self.retryableStates.contains(Self.sqlState(of: error) ?? "") {
                self.logger.debug("Retrying a batch of \(messages.count) messages: \(String(reflecting: error))")
            }
        }
    }

    /// `unique_violation` (another node stored the same sender's number first), `deadlock_detected`,
    /// `serialization_failure`.
    private static let retryableStates: Set<String> = [SQLState.uniqueViolation, "40P01", "40001"]

    /// A channel head the database did not return (never expected: every channel of the batch is upserted).
    struct MissingChannelHead: Error, Sendable {
        var channelID: Int64
    }

    private struct SenderNumber: Hashable {
        var sender: String
        var number: Int64
    }

    /// What a message of the batch becomes.
    private enum Slot {
        /// Stored earlier (a resend): answered with the earlier message.
        case earlier(StoredMessage)
        /// Stored now, as the n-th new message of the batch.
        case fresh(Int)
        /// A resend of the n-th new message of this same batch.
        case repeated(Int)
    }

    /// The batch's statements: the heads of its channels locked (and read), the earlier messages of its sender
    /// numbers, then one statement that advances the heads and stores every new message and its mentions.
    ///
    /// The heads are locked before the resends are looked for, so a resend of a message another node is storing in
    /// the same channel is found once that node commits. (The same sender number stored at the same moment in two
    /// different channels fails on the unique index instead, and the batch is retried.)
    private static func insert(_ messages: [NewMessage], connection: PostgresConnection, logger: Logger) async throws -> [AppendedMessage] {
        var next = try await Self.lockHeads(Set(messages.map(\.channelID)), connection: connection, logger: logger)
        let earlier = try await Self.earlierMessages(messages, connection: connection, logger: logger)
        var slots: [Slot] = []
        var fresh: [StoredMessage] = []
        var sources: [NewMessage] = []
        var inBatch: [SenderNumber: Int] = [:]
        for message in messages {
            if let number = message.senderNumber {
                let key = SenderNumber(sender: message.senderID.value, number: number)
                if let found = earlier[key] {
                    slots.append(.earlier(found))
                    continue
                }
                if let index = inBatch[key] {
                    slots.append(.repeated(index))
                    continue
                }
                inBatch[key] = fresh.count
            }
            guard let id = next[message.channelID] else { throw MissingChannelHead(channelID: message.channelID) }
            next[message.channelID] = id + 1
            slots.append(.fresh(fresh.count))
            sources.append(message)
            fresh.append(
                StoredMessage(
                    channelID: message.channelID, messageID: id, senderID: message.senderID, text: message.text, sendTime: message.sendTime,
                    kind: message.kind, attachments: message.attachments, replyTo: message.replyTo, mentions: message.mentions,
                    mentionsEveryone: message.mentionsEveryone
                )
            )
        }
        if !fresh.isEmpty {
            _ = try await connection.execute(WriteMessages(messages: sources, ids: fresh.map(\.messageID), heads: next.mapValues { $0 - 1 }), logger: logger)
        }
        return slots.map { slot in
            switch slot {
            case .earlier(let message): AppendedMessage(message: message, isNew: false)
            case .fresh(let index): AppendedMessage(message: fresh[index], isNew: true)
            case .repeated(let index): AppendedMessage(message: fresh[index], isNew: false)
            }
        }
    }

    /// Locks the heads of `channels` until the transaction ends and returns the next id of each: another node's batch
    /// for one of them waits, then continues from the head this one leaves. Channels are locked in ascending order, so
    /// two batches never deadlock on them. A channel without a head gets one at its newest stored message (0 for
    /// none), so messages copied in without their heads (a migration) are continued, not collided with.
    private static func lockHeads(_ channels: Set<Int64>, connection: PostgresConnection, logger: Logger) async throws -> [Int64: Int64] {
        var next: [Int64: Int64] = [:]
        for try await head in try await connection.execute(LockChannelHeads(channels: channels.sorted()), logger: logger) {
            next[head.channel] = head.last + 1
        }
        return next
    }

    /// The messages stored earlier under the sender numbers of `messages`, by sender and number.
    private static func earlierMessages(
        _ messages: [NewMessage], connection: PostgresConnection, logger: Logger
    ) async throws -> [SenderNumber: StoredMessage] {
        let numbered = messages.filter { $0.senderNumber != nil }
        guard !numbered.isEmpty else { return [:] }
        let senders = numbered.map(\.senderID.value)
        let numbers = numbered.map { $0.senderNumber ?? 0 }
        var earlier: [SenderNumber: StoredMessage] = [:]
        let rows = try await connection.query(
            """
            SELECT sender_number, \(unescaped: Self.messageColumns) FROM messages
            WHERE (sender_id, sender_number) IN (SELECT * FROM unnest(\(senders)::text[], \(numbers)::bigint[]))
            """,
            logger: logger
        )
        for try await row in rows {
            let message = try Self.message(row)
            if let sender = message.senderID, let number = try row.makeRandomAccess()["sender_number"].decode(Int64?.self) {
                earlier[SenderNumber(sender: sender.value, number: number)] = message
            }
        }
        return earlier
    }

    /// Rows of the `mentions` index (user id `''` for everyone).
    private static func insertMentions(
        _ rows: (users: [String], channels: [Int64], messages: [Int64]), connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO mentions (user_id, channel_id, message_id)
            SELECT * FROM unnest(\(rows.users)::text[], \(rows.channels)::bigint[], \(rows.messages)::bigint[])
            ON CONFLICT DO NOTHING
            """,
            logger: logger
        )
    }

    public func message(channelID: Int64, messageID: Int64) async throws -> StoredMessage? {
        try await self.rows(
            "SELECT \(unescaped: Self.messageColumns) FROM messages WHERE channel_id = \(channelID) AND message_id = \(messageID)",
            Self.message
        ).first
    }

    public func messages(channelID: Int64, ids: [Int64]) async throws -> [StoredMessage] {
        guard !ids.isEmpty else { return [] }
        return try await self.rows(
            "SELECT \(unescaped: Self.messageColumns) FROM messages WHERE channel_id = \(channelID) AND message_id = ANY(\(ids)::bigint[])",
            Self.message
        )
    }

    public func messages(channelID: Int64, before: Int64?, skip: Int, limit: Int) async throws -> [StoredMessage] {
        guard limit > 0 else { return [] }
        // Ids are dense, so the `skip` newest messages below the top are exactly those with ids ≥ top - skip.
        return try await self.rows(
            """
            SELECT \(unescaped: Self.messageColumns) FROM messages
            WHERE channel_id = \(channelID)
                AND message_id < coalesce(\(before)::bigint, (SELECT coalesce(max(message_id), 0) + 1 FROM messages WHERE channel_id = \(channelID))) - \(Int64(skip))
            ORDER BY message_id DESC LIMIT \(Int64(limit))
            """,
            Self.message
        )
    }

    public func updateMessage(
        channelID: Int64, messageID: Int64, text: String, senderID: UUIDString?, mentions: [UUIDString], everyone: Bool
    ) async throws {
        // A removal (no sender) drops what the message carried: attachments and mentions.
        let mentions = senderID == nil ? [] : mentions
        let everyone = senderID != nil && everyone
        try await self.transaction { connection in
            try await connection.query(
                """
                UPDATE messages SET body = \(text), sender_id = \(senderID?.value), edited = \(senderID != nil),
                    attachments = CASE WHEN \(senderID == nil) THEN '' ELSE attachments END,
                    mentions = \(StoredColumns.encode(mentions: mentions)), mentions_everyone = \(everyone)
                WHERE channel_id = \(channelID) AND message_id = \(messageID)
                """,
                logger: self.logger
            )
            try await connection.query(
                "DELETE FROM mentions WHERE channel_id = \(channelID) AND message_id = \(messageID)", logger: self.logger
            )
            let users = mentions.map(\.value) + (everyone ? [""] : [])
            if !users.isEmpty {
                let rows = (users, [Int64](repeating: channelID, count: users.count), [Int64](repeating: messageID, count: users.count))
                try await Self.insertMentions(rows, connection: connection, logger: self.logger)
            }
        }
    }

    /// The columns ``message(_:)`` reads.
    static let messageColumns = "channel_id, message_id, sender_id, body, send_time, kind, edited, attachments, reply_to, mentions, mentions_everyone"

    /// A message from a row holding ``messageColumns``.
    static func message(_ row: PostgresRow) throws -> StoredMessage {
        let cells = row.makeRandomAccess()
        return StoredMessage(
            channelID: try cells["channel_id"].decode(Int64.self), messageID: try cells["message_id"].decode(Int64.self),
            senderID: try cells["sender_id"].decode(String?.self).flatMap(UUIDString.init), text: try cells["body"].decode(String.self),
            sendTime: try cells["send_time"].decode(Int64.self), kind: MessageKind(rawValue: try cells["kind"].decode(String.self)) ?? .text,
            edited: try cells["edited"].decode(Bool.self), attachments: StoredColumns.decodeAttachments(try cells["attachments"].decode(String.self)),
            replyTo: try cells["reply_to"].decode(Int64?.self), mentions: StoredColumns.decodeMentions(try cells["mentions"].decode(String.self)),
            mentionsEveryone: try cells["mentions_everyone"].decode(Bool.self)
        )
    }
}
