import CommuneCore
import CommuneProtocol
import Foundation
import GRDB

/// Messages.
extension SQLiteStore {
    public func appendMessage(_ message: NewMessage) async throws -> AppendedMessage {
        try await Self.mappingFullDisk { try await self.writer.append(message) }
    }

    /// Runs a write, turning SQLite's "database or disk is full" into ``StoreError/storageFull``.
    static func mappingFullDisk<T>(_ write: () async throws -> T) async throws -> T {
        do {
            return try await write()
        } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
            throw StoreError.storageFull
        }
    }

    public func message(channelID: Int64, messageID: Int64) async throws -> StoredMessage? {
        try await self.pool.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT \(Self.messageColumns) FROM messages WHERE channel_id = ? AND message_id = ?",
                arguments: [channelID, messageID]
            ).map { row in Self.message(row, channelID: channelID) }
        }
    }

    public func updateMessage(
        channelID: Int64, messageID: Int64, text: String, senderID: UUIDString?, mentions: [UUIDString], everyone: Bool
    ) async throws {
        // A removal (no sender) drops what the message carried: attachments and mentions.
        let mentions = senderID == nil ? [] : mentions
        let everyone = senderID != nil && everyone
        try await Self.mappingFullDisk {
            try await self.pool.write { db in
                try db.execute(
                    sql: """
                        UPDATE messages SET body = ?, sender_id = ?, edited = ?,
                            attachments = CASE WHEN ? IS NULL THEN '' ELSE attachments END,
                            mentions = ?, mentions_everyone = ?
                        WHERE channel_id = ? AND message_id = ?
                        """,
                    arguments: [
                        text, senderID?.value, senderID != nil, senderID?.value, StoredColumns.encode(mentions: mentions), everyone, channelID, messageID,
                    ]
                )
                try db.execute(sql: "DELETE FROM mentions WHERE channel_id = ? AND message_id = ?", arguments: [channelID, messageID])
                for member in mentions.map(\.value) + (everyone ? [""] : []) {
                    try db.execute(
                        sql: "INSERT OR IGNORE INTO mentions (user_id, channel_id, message_id) VALUES (?, ?, ?)", arguments: [member, channelID, messageID]
                    )
                }
            }
        }
    }

    /// The columns ``message(_:channelID:)`` reads.
    static let messageColumns = "message_id, sender_id, body, send_time, kind, edited, attachments, reply_to, mentions, mentions_everyone"

    static func message(_ row: Row, channelID: Int64) -> StoredMessage {
        StoredMessage(
            channelID: channelID, messageID: row["message_id"],
            senderID: (row["sender_id"] as String?).flatMap(UUIDString.init), text: row["body"], sendTime: row["send_time"],
            kind: MessageKind(rawValue: row["kind"]) ?? .text, edited: row["edited"], attachments: StoredColumns.decodeAttachments(row["attachments"]),
            replyTo: row["reply_to"], mentions: StoredColumns.decodeMentions(row["mentions"]), mentionsEveryone: row["mentions_everyone"]
        )
    }

    public func messages(channelID: Int64, ids: [Int64]) async throws -> [StoredMessage] {
        guard !ids.isEmpty else { return [] }
        return try await self.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.messageColumns) FROM messages
                    WHERE channel_id = ? AND message_id IN (\(ids.map { _ in "?" }.joined(separator: ", ")))
                    """,
                arguments: StatementArguments([channelID] + ids)
            ).map { row in Self.message(row, channelID: channelID) }
        }
    }

    public func messages(channelID: Int64, before: Int64?, skip: Int, limit: Int) async throws -> [StoredMessage] {
        try await self.pool.read { db in
            let top: Int64
            if let before {
                top = before
            } else {
                let newest = try Int64.fetchOne(
                    db, sql: "SELECT max(message_id) FROM messages WHERE channel_id = ?", arguments: [channelID]
                ) ?? 0
                top = newest + 1
            }
            // Ids are dense, so the `skip` newest messages below `top` are exactly those with ids ≥ top - skip.
            let upper = top - Int64(skip)
            guard upper > 1 else { return [] }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.messageColumns) FROM messages
                    WHERE channel_id = ? AND message_id < ? ORDER BY message_id DESC LIMIT ?
                    """,
                arguments: [channelID, upper, limit]
            ).map { row in Self.message(row, channelID: channelID) }
        }
    }
}
