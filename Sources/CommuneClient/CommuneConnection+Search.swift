import CommuneProtocol

/// A message a search found: where it is and a line of it.
public struct SearchResult: Sendable, Hashable {
    /// The channel it is in: pass it with ``messageID`` to `get_messages` (`before: messageID + 1`) to show it in
    /// context.
    public var channel: ChannelAddress
    public var messageID: Int64
    public var senderID: UUIDString?
    public var sendTime: Int64
    public var kind: MessageKind
    public var edited: Bool
    /// One line of the message around the first word found (untrusted text).
    public var snippet: String
}

/// One page of search results, newest first.
public struct SearchPage: Sendable, Hashable {
    public var results: [SearchResult]
    /// Pass it as `cursor` for the next page; `nil` when there is none.
    public var nextCursor: String?
}

extension CommuneConnection {
    /// Searches the messages of the channels this member may read for every word of `query` (words only: quotes,
    /// `*`, `:` and the like are not operators), optionally only in `channel` (a category: every channel in it),
    /// by `author`, sent before or at/after a time (Unix milliseconds).
    public func search(
        _ query: String, channel: ChannelAddress? = nil, author: UUIDString? = nil, before: Int64? = nil, after: Int64? = nil,
        cursor: String? = nil, amount: Int? = nil
    ) async throws -> SearchPage {
        var payload: [String: JSONValue] = ["query": .string(query)]
        if let channel { payload["channel"] = ["path": .string(channel.path), "name": .string(channel.name)] }
        if let author { payload["author"] = .string(author.value) }
        if let before { payload["before"] = .int(before) }
        if let after { payload["after"] = .int(after) }
        if let cursor { payload["cursor"] = .string(cursor) }
        if let amount { payload["amount"] = .int(Int64(amount)) }
        let result = try await self.community("search", .object(payload))
        guard let list = result.payload["results"]?.arrayValue else {
            throw CommuneClientError.unexpectedReply("search_results without results")
        }
        let results = try list.map { value throws(CommuneError) in
            let reader = try PayloadReader(value, context: "payload.results[]")
            return SearchResult(
                channel: ChannelAddress(path: try reader.string("path"), name: try reader.string("name")),
                messageID: try reader.int("message_id"), senderID: try reader.optionalString("sender_id").flatMap(UUIDString.init),
                sendTime: try reader.int("send_time"), kind: MessageKind(rawValue: try reader.optionalString("kind") ?? "") ?? .text,
                edited: try reader.optionalBool("edited") ?? false, snippet: try reader.string("snippet")
            )
        }
        return SearchPage(results: results, nextCursor: result.payload["next_cursor"]?.stringValue)
    }
}
