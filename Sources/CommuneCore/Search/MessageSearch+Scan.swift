import CommuneProtocol

extension MessageSearch {
    /// Runs this search over `messages` by reading each one (the in-memory store's way; SQLite uses its index):
    /// newest first by (send time, channel, message id), with cursors `"<send_time>.<channel_id>.<message_id>"`.
    public func scan(_ messages: [StoredMessage]) throws -> [SearchHit] {
        let below = try self.cursorPosition()
        let found = messages.filter { message in
            guard let sender = message.senderID, self.channelIDs.contains(message.channelID) else { return false }
            if let author = self.author, sender != author { return false }
            if let before = self.before, message.sendTime >= before { return false }
            if let after = self.after, message.sendTime < after { return false }
            if let below, (message.sendTime, message.channelID, message.messageID) >= below { return false }
            return self.query.matches(message.text)
        }
        return found.sorted { ($0.sendTime, $0.channelID, $0.messageID) > ($1.sendTime, $1.channelID, $1.messageID) }
            .prefix(max(0, self.limit))
            .map { SearchHit(message: $0, cursor: Self.cursor(after: $0)) }
    }

    /// Where ``cursor`` says the page starts: below this (send time, channel id, message id), or `nil` for the first
    /// page. For the stores that order hits by send time (this scan, PostgreSQL).
    public func cursorPosition() throws -> (sendTime: Int64, channelID: Int64, messageID: Int64)? {
        guard let cursor = self.cursor else { return nil }
        let parts = cursor.split(separator: ".", omittingEmptySubsequences: false).map { Int64($0) }
        guard parts.count == 3, let time = parts[0], let channel = parts[1], let id = parts[2] else {
            throw SearchCursorError(cursor: cursor)
        }
        return (time, channel, id)
    }

    /// The cursor of the page after `message`: `"<send_time>.<channel_id>.<message_id>"`.
    public static func cursor(after message: StoredMessage) -> String {
        "\(message.sendTime).\(message.channelID).\(message.messageID)"
    }
}
