import CommuneCore
import CommuneProtocol
import Foundation
import GRDB

/// Full-text search: an FTS5 index of every message that has a sender, kept in step by triggers.
///
/// `messages` has no rowid (its key is `(channel_id, message_id)`), so `search_rows` gives each indexed message a
/// row number in the order it was indexed (commit order, which is send order), and `search_index` is a contentless
/// FTS5 table keyed by that number: the text lives once, in `messages`. Triggers on `messages` add a message when
/// it is inserted, replace its words when its text changes (an edit), and drop it when it loses its sender (a
/// removal) or is deleted (its channel removed); a contentless table forgets a row's words only when told them, and
/// the triggers tell it `OLD.body`, exactly what was indexed. Results come newest first by walking the index's row
/// numbers downwards, so a page costs the matches it reads, not every match.
extension SQLiteStore {
    /// Creates the index and its triggers, and indexes the messages already stored, logging progress for big stores.
    static func createSearchIndex(_ db: Database, progress: (_ done: Int, _ total: Int) -> Void) throws {
        try db.execute(
            sql: """
                CREATE TABLE search_rows (
                    row_id INTEGER PRIMARY KEY,
                    channel_id INTEGER NOT NULL,
                    message_id INTEGER NOT NULL,
                    UNIQUE (channel_id, message_id)
                );
                CREATE VIRTUAL TABLE search_index USING fts5(body, content = '', tokenize = 'unicode61 remove_diacritics 2');
                CREATE TRIGGER search_message_added AFTER INSERT ON messages WHEN NEW.sender_id IS NOT NULL BEGIN
                    INSERT INTO search_rows (channel_id, message_id) VALUES (NEW.channel_id, NEW.message_id);
                    INSERT INTO search_index (rowid, body) VALUES (last_insert_rowid(), NEW.body);
                END;
                CREATE TRIGGER search_message_changed AFTER UPDATE OF body, sender_id ON messages BEGIN
                    INSERT INTO search_index (search_index, rowid, body)
                        SELECT 'delete', row_id, OLD.body FROM search_rows
                        WHERE channel_id = OLD.channel_id AND message_id = OLD.message_id;
                    DELETE FROM search_rows
                        WHERE NEW.sender_id IS NULL AND channel_id = OLD.channel_id AND message_id = OLD.message_id;
                    INSERT INTO search_index (rowid, body)
                        SELECT row_id, NEW.body FROM search_rows
                        WHERE channel_id = NEW.channel_id AND message_id = NEW.message_id;
                END;
                CREATE TRIGGER search_message_deleted AFTER DELETE ON messages BEGIN
                    INSERT INTO search_index (search_index, rowid, body)
                        SELECT 'delete', row_id, OLD.body FROM search_rows
                        WHERE channel_id = OLD.channel_id AND message_id = OLD.message_id;
                    DELETE FROM search_rows WHERE channel_id = OLD.channel_id AND message_id = OLD.message_id;
                END;
                INSERT INTO search_rows (channel_id, message_id)
                    SELECT channel_id, message_id FROM messages WHERE sender_id IS NOT NULL
                    ORDER BY send_time, channel_id, message_id;
                """
        )
        let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM search_rows") ?? 0
        let batch = 100_000
        var done = 0
        // One batch of row numbers at a time, so that progress can be told; bounded by the row count.
        while done < total {
            try db.execute(
                sql: """
                    INSERT INTO search_index (rowid, body)
                        SELECT r.row_id, m.body FROM search_rows r
                        JOIN messages m ON m.channel_id = r.channel_id AND m.message_id = r.message_id
                        WHERE r.row_id > ? AND r.row_id <= ?
                    """,
                arguments: [done, done + batch]
            )
            done = min(total, done + batch)
            progress(done, total)
        }
    }

    /// An author filter starts from the author's messages when they have at most this many (reading each one's
    /// row against the query's matches), and from the query's matches otherwise (reading matches newest first until
    /// a page of the author's is found): a member who wrote little is found fast however common the words are.
    static let authorFirstLimit = 5_000

    public func searchMessages(_ search: MessageSearch) async throws -> [SearchHit] {
        try await self.searchMessages(search, authorFirstLimit: Self.authorFirstLimit)
    }

    /// ``searchMessages(_:)`` with the author-first limit as a parameter (the tests run both ways).
    func searchMessages(_ search: MessageSearch, authorFirstLimit: Int) async throws -> [SearchHit] {
        var below = Int64.max
        if let cursor = search.cursor {
            guard let row = Int64(cursor), row > 0 else { throw SearchCursorError(cursor: cursor) }
            below = row
        }
        guard !search.channelIDs.isEmpty, search.limit > 0 else { return [] }
        let channels = JSONValue.array(search.channelIDs.sorted().map { .int($0) }).jsonString
        var times: [String] = []
        var timeArguments: StatementArguments = []
        if let before = search.before {
            times.append("m.send_time < ?")
            timeArguments += [before]
        }
        if let after = search.after {
            times.append("m.send_time >= ?")
            timeArguments += [after]
        }
        let columns = Self.messageColumns.split(separator: ",").map { "m.\($0.trimmingCharacters(in: .whitespaces))" }
        let select = "SELECT r.row_id AS search_row, r.channel_id AS search_channel, \(columns.joined(separator: ", "))"
        let matchesFirst: (sql: String, arguments: StatementArguments) = {
            let author = search.author.map { _ in ["m.sender_id = ?"] } ?? []
            let conditions = ["search_index MATCH ?", "s.rowid < ?", "r.channel_id IN (SELECT value FROM json_each(?))"] + author + times
            var arguments: StatementArguments = [search.query.fts5Query, below, channels]
            if let author = search.author { arguments += [author.value] }
            let sql = """
                \(select)
                FROM search_index s
                JOIN search_rows r ON r.row_id = s.rowid
                JOIN messages m ON m.channel_id = r.channel_id AND m.message_id = r.message_id
                WHERE \(conditions.joined(separator: " AND "))
                ORDER BY s.rowid DESC LIMIT ?
                """
            return (sql, arguments + timeArguments + [search.limit])
        }()
        let (limit, timeConditions, top, timeValues) = (authorFirstLimit, times, below, timeArguments)
        return try await self.pool.read { db in
            var query = matchesFirst
            if let author = search.author,
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM (SELECT 1 FROM messages WHERE sender_id = ? LIMIT ?)", arguments: [author.value, limit + 1]
                ) ?? 0 <= limit
            {
                let conditions = [
                    "m.sender_id = ?", "r.row_id < ?", "r.channel_id IN (SELECT value FROM json_each(?))",
                    "r.row_id IN (SELECT rowid FROM search_index WHERE search_index MATCH ?)",
                ] + timeConditions
                let arguments: StatementArguments = [author.value, top, channels, search.query.fts5Query]
                query.sql = """
                    \(select)
                    FROM messages m INDEXED BY messages_sender_number
                    JOIN search_rows r ON r.channel_id = m.channel_id AND r.message_id = m.message_id
                    WHERE \(conditions.joined(separator: " AND "))
                    ORDER BY r.row_id DESC LIMIT ?
                    """
                query.arguments = arguments + timeValues + [search.limit]
            }
            return try Row.fetchAll(db, sql: query.sql, arguments: query.arguments).map { row in
                let row64: Int64 = row["search_row"]
                return SearchHit(message: Self.message(row, channelID: row["search_channel"]), cursor: String(row64))
            }
        }
    }
}
