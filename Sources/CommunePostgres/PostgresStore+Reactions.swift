import CommuneCore
import CommuneProtocol
import Logging
import PostgresNIO

/// Reactions: one row per member, message and emoji. A change holds a lock of its message (an advisory lock for the
/// transaction, shared by every node) while it checks the limits and writes, so concurrent reactions keep the counts
/// exact and the limits hold, as the SQLite store's single writer does.
extension PostgresStore: ReactionStore {
    public func addReaction(_ reaction: Reaction, limits: ReactionLimits) async throws -> ReactionChange {
        try await self.transaction { connection in
            try await Self.lock("reactions", reaction.channelID, reaction.messageID, connection: connection, logger: self.logger)
            let counts = try await Self.rows(
                """
                SELECT count(*) FILTER (WHERE emoji = \(reaction.emoji) AND user_id = \(reaction.member.value)),
                    count(*) FILTER (WHERE user_id = \(reaction.member.value)),
                    count(*) FILTER (WHERE emoji = \(reaction.emoji)),
                    count(DISTINCT emoji)
                FROM reactions WHERE channel_id = \(reaction.channelID) AND message_id = \(reaction.messageID)
                """,
                on: connection, logger: self.logger
            ) { try $0.decode((Int64, Int64, Int64, Int64).self) }
            let (mine, members, same, distinct) = counts.first ?? (0, 0, 0, 0)
            if mine > 0 { return .unchanged(count: same) }
            if members >= limits.maxPerMember { return .memberFull }
            if same == 0, distinct >= limits.maxPerMessage { return .messageFull }
            try await connection.query(
                """
                INSERT INTO reactions (channel_id, message_id, emoji, user_id, time)
                VALUES (\(reaction.channelID), \(reaction.messageID), \(reaction.emoji), \(reaction.member.value), \(reaction.time))
                """,
                logger: self.logger
            )
            return .changed(count: same + 1)
        }
    }

    public func removeReaction(_ reaction: Reaction) async throws -> ReactionChange {
        try await self.transaction { connection in
            try await Self.lock("reactions", reaction.channelID, reaction.messageID, connection: connection, logger: self.logger)
            let removed = try await Self.rows(
                """
                DELETE FROM reactions
                WHERE channel_id = \(reaction.channelID) AND message_id = \(reaction.messageID) AND emoji = \(reaction.emoji)
                    AND user_id = \(reaction.member.value)
                RETURNING 1
                """,
                on: connection, logger: self.logger
            ) { _ in true }
            let count = try await Self.rows(
                """
                SELECT count(*) FROM reactions
                WHERE channel_id = \(reaction.channelID) AND message_id = \(reaction.messageID) AND emoji = \(reaction.emoji)
                """,
                on: connection, logger: self.logger
            ) { try $0.decode(Int64.self) }.first ?? 0
            return removed.isEmpty ? .unchanged(count: count) : .changed(count: count)
        }
    }

    public func reactions(channelID: Int64, messageIDs: [Int64], viewer: UUIDString) async throws -> [Int64: [ReactionCount]] {
        guard !messageIDs.isEmpty else { return [:] }
        // Emoji first used in the same millisecond are ordered by their bytes, as SQLite's BINARY collation does.
        let rows = try await self.rows(
            """
            SELECT message_id, emoji, count(*), min(time) AS first, bool_or(user_id = \(viewer.value)) FROM reactions
            WHERE channel_id = \(channelID) AND message_id = ANY(\(messageIDs)::bigint[])
            GROUP BY message_id, emoji ORDER BY message_id, first, emoji COLLATE "C"
            """
        ) { try $0.decode((Int64, String, Int64, Int64, Bool).self) }
        var found: [Int64: [ReactionCount]] = [:]
        for (message, emoji, count, _, me) in rows {
            found[message, default: []].append(ReactionCount(emoji: emoji, count: count, me: me))
        }
        return found
    }

    public func reactors(channelID: Int64, messageID: Int64, emoji: String, skip: Int, limit: Int) async throws -> [UUIDString] {
        try await self.rows(
            """
            SELECT user_id FROM reactions WHERE channel_id = \(channelID) AND message_id = \(messageID) AND emoji = \(emoji)
            ORDER BY time, user_id COLLATE "C" LIMIT \(Int64(max(0, limit))) OFFSET \(Int64(max(0, skip)))
            """
        ) { try $0.decode(String.self) }.compactMap(UUIDString.init)
    }

    /// Takes the transaction's advisory lock named by `scope` and `ids` (held until the transaction ends, on every
    /// node): what a change checks against a limit cannot change under it.
    static func lock(_ scope: String, _ ids: Int64..., connection: PostgresConnection, logger: Logger) async throws {
        let key = "commune.\(scope)." + ids.map(String.init).joined(separator: ".")
        try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(key), 0))", logger: logger)
    }
}
