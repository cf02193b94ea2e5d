import CommuneCore
import CommuneProtocol
import PostgresNIO

/// Full-text search with PostgreSQL's own: the `search_words` tsvector (migration `v2-message-search`, generated from
/// each message's text, so inserts, edits and removals keep it in step in their own statements) and its GIN index.
///
/// The query is the parsed ``SearchQuery``'s words, bound as one parameter and read by `plainto_tsquery` (which has
/// no operators: every word is required, as a whole word, case and accents aside); no SQL is built from what a member
/// typed. Hits come newest first by (send time, channel, message id), with the same cursors as the in-memory store.
extension PostgresStore: SearchStore {
    public func searchMessages(_ search: MessageSearch) async throws -> [SearchHit] {
        let below = try search.cursorPosition()
        guard !search.channelIDs.isEmpty, search.limit > 0 else { return [] }
        let words = search.query.words.joined(separator: " ")
        let channels = search.channelIDs.sorted()
        return try await self.rows(
            """
            SELECT \(unescaped: Self.messageColumns) FROM messages
            WHERE search_words @@ plainto_tsquery('commune_search', \(words))
                AND sender_id IS NOT NULL AND channel_id = ANY(\(channels)::bigint[])
                AND (\(search.author?.value)::text IS NULL OR sender_id = \(search.author?.value))
                AND (\(search.before)::bigint IS NULL OR send_time < \(search.before))
                AND (\(search.after)::bigint IS NULL OR send_time >= \(search.after))
                AND (\(below == nil) OR (send_time, channel_id, message_id) < (\(below?.sendTime ?? 0), \(below?.channelID ?? 0), \(below?.messageID ?? 0)))
            ORDER BY send_time DESC, channel_id DESC, message_id DESC
            LIMIT \(Int64(search.limit))
            """
        ) { row in
            let message = try Self.message(row)
            return SearchHit(message: message, cursor: MessageSearch.cursor(after: message))
        }
    }
}
