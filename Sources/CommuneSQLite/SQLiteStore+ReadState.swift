import CommuneCore
import CommuneProtocol
import GRDB

/// Read marks (table `read_marks`, one row per member and channel they have read).
extension SQLiteStore {
    public func readMarks(memberID: UUIDString) async throws -> [Int64: Int64] {
        try await self.pool.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT channel_id, message_id FROM read_marks WHERE member_id = ?", arguments: [memberID.value])
            return Dictionary(rows.map { (row: Row) -> (Int64, Int64) in (row["channel_id"], row["message_id"]) }, uniquingKeysWith: max)
        }
    }

    public func saveReadMarks(_ marks: [ReadMark]) async throws {
        guard !marks.isEmpty else { return }
        try await self.pool.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO read_marks (member_id, channel_id, message_id) VALUES (?, ?, ?)
                    ON CONFLICT (member_id, channel_id) DO UPDATE SET message_id = max(message_id, excluded.message_id)
                    """
            )
            for mark in marks {
                try statement.execute(arguments: [mark.memberID.value, mark.channelID, mark.messageID])
            }
        }
    }

    public func lastMessageIDs(channelIDs: [Int64]) async throws -> [Int64: Int64] {
        try await self.pool.read { db in
            // One indexed lookup per channel (the primary key is (channel_id, message_id)).
            let statement = try db.cachedStatement(sql: "SELECT max(message_id) FROM messages WHERE channel_id = ?")
            var last: [Int64: Int64] = [:]
            for channel in channelIDs {
                last[channel] = try Int64.fetchOne(statement, arguments: [channel]) ?? 0
            }
            return last
        }
    }

    public func mentionCounts(memberID: UUIDString, after marks: [Int64: Int64]) async throws -> [Int64: Int64] {
        try await self.pool.read { db in
            // From the mentions index (its key starts with the member, then the channel): only the unread mentions
            // are read, however many unread messages there are.
            let statement = try db.cachedStatement(
                sql: """
                    SELECT count(DISTINCT m.message_id) FROM mentions m
                    JOIN messages g ON g.channel_id = m.channel_id AND g.message_id = m.message_id
                    WHERE m.user_id IN (?, '') AND m.channel_id = ? AND m.message_id > ? AND g.sender_id IS NOT NULL AND g.sender_id != ?
                    """
            )
            var counts: [Int64: Int64] = [:]
            for (channel, mark) in marks {
                counts[channel] = try Int64.fetchOne(statement, arguments: [memberID.value, channel, mark, memberID.value]) ?? 0
            }
            return counts
        }
    }
}
