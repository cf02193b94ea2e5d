import CommuneCore
import CommuneProtocol
import PostgresNIO

// The statements every message's transaction runs, prepared once per connection (``PostgresPreparedStatement``):
// PostgreSQL parses, analyses and plans each of them once per connection instead of at every batch, which was half of
// its CPU for a message sent on its own (a `perf` profile of paced sends, 13:06 on 2026-12-02). Their parameters are
// arrays, one element per message, so one plan serves a batch of any size.

/// Locks the heads of the channels of a batch (ascending: two batches never deadlock on them) and returns each one's
/// newest id; a channel without a head gets one at its newest stored message (0 for none).
struct LockChannelHeads: PostgresPreparedStatement {
    static let sql = """
        INSERT INTO channel_heads AS h (channel_id, last_message_id)
        SELECT c, coalesce((SELECT max(message_id) FROM messages WHERE channel_id = c), 0) FROM unnest($1::bigint[]) AS c ORDER BY c
        ON CONFLICT (channel_id) DO UPDATE SET last_message_id = h.last_message_id
        RETURNING channel_id, last_message_id
        """
    typealias Row = (channel: Int64, last: Int64)

    var channels: [Int64]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(self.channels)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode((Int64, Int64).self)
    }
}

/// Stores a batch's new messages, their mentions and the channels' new heads (data-modifying WITH queries): one
/// round trip however many messages the batch has.
struct WriteMessages: PostgresPreparedStatement {
    static let sql = """
        WITH heads AS (
            UPDATE channel_heads SET last_message_id = x.last FROM unnest($1::bigint[], $2::bigint[]) AS x (c, last)
            WHERE channel_id = x.c AND last_message_id <> x.last
        ), mentioned AS (
            INSERT INTO mentions (user_id, channel_id, message_id)
            SELECT * FROM unnest($3::text[], $4::bigint[], $5::bigint[])
            ON CONFLICT DO NOTHING
        )
        INSERT INTO messages (
            channel_id, message_id, sender_id, body, send_time, kind, attachments, sender_number, reply_to, mentions, mentions_everyone
        )
        SELECT c, i, s, b, t, k, a, CASE WHEN hn THEN n END, CASE WHEN hr THEN r END, m, e
        FROM unnest(
            $6::bigint[], $7::bigint[], $8::text[], $9::text[], $10::bigint[], $11::text[], $12::text[], $13::bigint[], $14::boolean[],
            $15::bigint[], $16::boolean[], $17::text[], $18::boolean[]
        ) AS x (c, i, s, b, t, k, a, n, hn, r, hr, m, e)
        """
    typealias Row = ()

    var messages: [NewMessage]
    /// The new messages' ids, in the order of `messages`.
    var ids: [Int64]
    /// The channels' new newest ids.
    var heads: [Int64: Int64]

    func makeBindings() throws -> PostgresBindings {
        let channels = self.heads.keys.sorted()
        var mentioned: (users: [String], channels: [Int64], messages: [Int64]) = ([], [], [])
        for (message, id) in zip(self.messages, self.ids) {
            for user in message.mentions.map(\.value) + (message.mentionsEveryone ? [""] : []) {
                mentioned.users.append(user)
                mentioned.channels.append(message.channelID)
                mentioned.messages.append(id)
            }
        }
        var bindings = PostgresBindings(capacity: 18)
        bindings.append(channels)
        bindings.append(channels.map { self.heads[$0] ?? 0 })
        bindings.append(mentioned.users)
        bindings.append(mentioned.channels)
        bindings.append(mentioned.messages)
        bindings.append(self.messages.map(\.channelID))
        bindings.append(self.ids)
        bindings.append(self.messages.map(\.senderID.value))
        bindings.append(self.messages.map(\.text))
        bindings.append(self.messages.map(\.sendTime))
        bindings.append(self.messages.map(\.kind.rawValue))
        bindings.append(self.messages.map { StoredColumns.encode(attachments: $0.attachments) })
        bindings.append(self.messages.map { $0.senderNumber ?? 0 })
        bindings.append(self.messages.map { $0.senderNumber != nil })
        bindings.append(self.messages.map { $0.replyTo ?? 0 })
        bindings.append(self.messages.map { $0.replyTo != nil })
        bindings.append(self.messages.map { StoredColumns.encode(mentions: $0.mentions) })
        bindings.append(self.messages.map(\.mentionsEveryone))
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {}
}
