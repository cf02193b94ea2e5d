import CommuneProtocol

/// Full-text search over stored messages, kept in step with them: a message is found by its current text from
/// the moment its append (or edit) commits, and a removed message, or one of a removed channel, is never found.
public protocol SearchStore: Sendable {
    /// Messages holding every word of `search.query` (whole words, case- and accent-insensitive, in any order) in
    /// the channels `search.channelIDs`, newest first, at most `search.limit` of them, after `search.cursor`.
    ///
    /// Throws ``SearchCursorError`` for a cursor this store did not hand out.
    func searchMessages(_ search: MessageSearch) async throws -> [SearchHit]
}

/// One page of a message search, as the store runs it.
public struct MessageSearch: Sendable, Hashable {
    /// The words to find (never query syntax: see ``SearchQuery``).
    public var query: SearchQuery
    /// Where to look: only these channels (those the member may read, narrowed by a channel filter).
    public var channelIDs: Set<Int64>
    /// Only messages by this member.
    public var author: UUIDString?
    /// Only messages sent before this Unix millisecond (excluded).
    public var before: Int64?
    /// Only messages sent at or after this Unix millisecond.
    public var after: Int64?
    /// The ``SearchHit/cursor`` of the last hit of the previous page; `nil` for the first page.
    public var cursor: String?
    public var limit: Int

    public init(
        query: SearchQuery, channelIDs: Set<Int64>, author: UUIDString? = nil, before: Int64? = nil, after: Int64? = nil,
        cursor: String? = nil, limit: Int
    ) {
        self.query = query
        self.channelIDs = channelIDs
        self.author = author
        self.before = before
        self.after = after
        self.cursor = cursor
        self.limit = limit
    }
}

/// A message a search found.
public struct SearchHit: Sendable, Hashable {
    public var message: StoredMessage
    /// Where the next page starts: opaque, meaningful only to the store that made it.
    public var cursor: String

    public init(message: StoredMessage, cursor: String) {
        self.message = message
        self.cursor = cursor
    }
}

/// A search cursor the store did not hand out (or from another store).
public struct SearchCursorError: Error, Sendable, Hashable {
    public var cursor: String

    public init(cursor: String) { self.cursor = cursor }
}
