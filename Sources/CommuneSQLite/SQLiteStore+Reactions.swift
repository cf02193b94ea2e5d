import CommuneCore
import CommuneProtocol
import GRDB

/// Reactions: one row per member, message and emoji (migration `v9-message-reactions`). Each change is one write
/// transaction, so the checks against the limits and the insert cannot interleave with another member's.
extension SQLiteStore {
    public func addReaction(_ reaction: Reaction, limits: ReactionLimits) async throws -> ReactionChange {
        try await Self.mappingFullDisk {
            try await self.pool.write { db in
                let message: StatementArguments = [reaction.channelID, reaction.messageID]
                let mine = try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM reactions WHERE channel_id = ? AND message_id = ? AND emoji = ? AND user_id = ?",
                    arguments: message + [reaction.emoji, reaction.member.value]
                ) ?? 0
                if mine > 0 { return .unchanged(count: try Self.reactionCount(reaction, db: db)) }
                let members = try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM reactions WHERE channel_id = ? AND message_id = ? AND user_id = ?",
                    arguments: message + [reaction.member.value]
                ) ?? 0
                if members >= limits.maxPerMember { return .memberFull }
                if try Self.reactionCount(reaction, db: db) == 0 {
                    let distinct = try Int.fetchOne(
                        db, sql: "SELECT count(DISTINCT emoji) FROM reactions WHERE channel_id = ? AND message_id = ?", arguments: message
                    ) ?? 0
                    if distinct >= limits.maxPerMessage { return .messageFull }
                }
                try db.execute(
                    sql: "INSERT INTO reactions (channel_id, message_id, emoji, user_id, time) VALUES (?, ?, ?, ?, ?)",
                    arguments: message + [reaction.emoji, reaction.member.value, reaction.time]
                )
                return .changed(count: try Self.reactionCount(reaction, db: db))
            }
        }
    }

    public func removeReaction(_ reaction: Reaction) async throws -> ReactionChange {
        try await self.pool.write { db in
            try db.execute(
                sql: "DELETE FROM reactions WHERE channel_id = ? AND message_id = ? AND emoji = ? AND user_id = ?",
                arguments: [reaction.channelID, reaction.messageID, reaction.emoji, reaction.member.value]
            )
            let count = try Self.reactionCount(reaction, db: db)
            return db.changesCount > 0 ? .changed(count: count) : .unchanged(count: count)
        }
    }

    /// How many members react to the reaction's message with its emoji.
    private static func reactionCount(_ reaction: Reaction, db: Database) throws -> Int64 {
        try Int64.fetchOne(
            db, sql: "SELECT count(*) FROM reactions WHERE channel_id = ? AND message_id = ? AND emoji = ?",
            arguments: [reaction.channelID, reaction.messageID, reaction.emoji]
        ) ?? 0
    }

    public func reactions(channelID: Int64, messageIDs: [Int64], viewer: UUIDString) async throws -> [Int64: [ReactionCount]] {
        guard !messageIDs.isEmpty else { return [:] }
        return try await self.pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT message_id, emoji, count(*) AS count, min(time) AS first, max(user_id = ?) AS me FROM reactions
                    WHERE channel_id = ? AND message_id IN (\(messageIDs.map { _ in "?" }.joined(separator: ", ")))
                    GROUP BY message_id, emoji ORDER BY message_id, first, emoji
                    """,
                arguments: StatementArguments([viewer.value]) + StatementArguments([channelID] + messageIDs)
            )
            var found: [Int64: [ReactionCount]] = [:]
            for row in rows {
                found[row["message_id"], default: []].append(ReactionCount(emoji: row["emoji"], count: row["count"], me: row["me"]))
            }
            return found
        }
    }

    public func reactors(channelID: Int64, messageID: Int64, emoji: String, skip: Int, limit: Int) async throws -> [UUIDString] {
        try await self.pool.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT user_id FROM reactions WHERE channel_id = ? AND message_id = ? AND emoji = ?
                    ORDER BY time, user_id LIMIT ? OFFSET ?
                    """,
                arguments: [channelID, messageID, emoji, limit, skip]
            ).compactMap(UUIDString.init)
        }
    }
}
