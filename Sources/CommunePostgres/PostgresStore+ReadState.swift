import CommuneCore
import CommuneProtocol
import PostgresNIO

/// Read marks (table `read_marks`, one row per member and channel they have read), channels' newest ids and unread
/// mention counts, each a single statement whatever the number of channels.
extension PostgresStore: ReadStateStore {
    public func readMarks(memberID: UUIDString) async throws -> [Int64: Int64] {
        let rows = try await self.rows("SELECT channel_id, message_id FROM read_marks WHERE member_id = \(memberID.value)") {
            try $0.decode((Int64, Int64).self)
        }
        return Dictionary(rows, uniquingKeysWith: max)
    }

    public func saveReadMarks(_ marks: [ReadMark]) async throws {
        // One row per member and channel (the highest mark), for one statement cannot update a row twice.
        var highest: [ReadMarkKey: Int64] = [:]
        for mark in marks {
            let key = ReadMarkKey(member: mark.memberID.value, channel: mark.channelID)
            highest[key] = max(highest[key] ?? mark.messageID, mark.messageID)
        }
        guard !highest.isEmpty else { return }
        let keys = Array(highest.keys)
        let members = keys.map(\.member)
        let channels = keys.map(\.channel)
        let ids = keys.map { highest[$0] ?? 0 }
        try await self.execute(
            """
            INSERT INTO read_marks AS r (member_id, channel_id, message_id)
            SELECT * FROM unnest(\(members)::text[], \(channels)::bigint[], \(ids)::bigint[])
            ON CONFLICT (member_id, channel_id) DO UPDATE SET message_id = greatest(r.message_id, excluded.message_id)
            """
        )
    }

    private struct ReadMarkKey: Hashable {
        var member: String
        var channel: Int64
    }

    public func lastMessageIDs(channelIDs: [Int64]) async throws -> [Int64: Int64] {
        guard !channelIDs.isEmpty else { return [:] }
        // One indexed lookup per channel (the primary key is (channel_id, message_id)).
        let rows = try await self.rows(
            """
            SELECT c, coalesce((SELECT max(message_id) FROM messages WHERE channel_id = c), 0)
            FROM unnest(\(channelIDs)::bigint[]) AS c
            """
        ) { try $0.decode((Int64, Int64).self) }
        return Dictionary(rows, uniquingKeysWith: max)
    }

    public func mentionCounts(memberID: UUIDString, after marks: [Int64: Int64]) async throws -> [Int64: Int64] {
        guard !marks.isEmpty else { return [:] }
        let channels = Array(marks.keys)
        let from = channels.map { marks[$0] ?? 0 }
        // From the mentions index (its key starts with the member, then the channel): only the unread mentions are
        // read, however many unread messages there are.
        let rows = try await self.rows(
            """
            SELECT t.c, (
                SELECT count(DISTINCT m.message_id) FROM mentions m
                JOIN messages g ON g.channel_id = m.channel_id AND g.message_id = m.message_id
                WHERE m.user_id IN (\(memberID.value), '') AND m.channel_id = t.c AND m.message_id > t.mark
                    AND g.sender_id IS NOT NULL AND g.sender_id <> \(memberID.value)
            )
            FROM unnest(\(channels)::bigint[], \(from)::bigint[]) AS t (c, mark)
            """
        ) { try $0.decode((Int64, Int64).self) }
        return Dictionary(rows, uniquingKeysWith: max)
    }
}
