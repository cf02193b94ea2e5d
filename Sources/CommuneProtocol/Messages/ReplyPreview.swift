/// What a reply shows of the message it answers: who wrote it and its first line, cut short.
///
/// Built by the server when the reply is read or pushed, so it shows the original as it is now: an edit shows, and
/// a removed original is `removed` with no sender and no text.
public struct ReplyPreview: Sendable, Hashable {
    /// The original's number in the same channel.
    public var messageID: Int64
    /// The original's author; `nil` once the original was removed.
    public var senderID: UUIDString?
    /// The author's name when the preview was made (`""` when removed or no longer a member).
    public var senderName: String
    /// The original's first line, at most ``maxLength`` characters (grapheme clusters) and then `…`.
    public var text: String
    /// Whether the original was removed ("original removed").
    public var removed: Bool

    /// The most characters of the original's first line a preview carries (before the `…`).
    public static let maxLength = 100

    public init(messageID: Int64, senderID: UUIDString?, senderName: String, text: String, removed: Bool) {
        self.messageID = messageID
        self.senderID = senderID
        self.senderName = senderName
        self.text = text
        self.removed = removed
    }

    public init(json: JSONValue) throws(CommuneError) {
        let reader = try PayloadReader(json, context: "reply_to")
        self.messageID = try reader.int("message_id")
        self.senderID = try reader.optionalString("sender_id").flatMap(UUIDString.init)
        self.senderName = try reader.optionalString("sender_name") ?? ""
        self.text = try reader.optionalString("text") ?? ""
        self.removed = try reader.optionalBool("removed") ?? false
    }

    public var json: JSONValue {
        [
            "message_id": .int(self.messageID), "sender_id": self.senderID.map { .string($0.value) } ?? .null,
            "sender_name": .string(self.senderName), "text": .string(self.text), "removed": .bool(self.removed),
        ]
    }

    /// The first line of `text` that shows something, cut to ``maxLength`` characters with `…` after a cut.
    public static func firstLine(of text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).first { !$0.allSatisfy(\.isWhitespace) } ?? ""
        let trimmed = line.drop { $0.isWhitespace }
        guard trimmed.count > Self.maxLength else { return String(trimmed) }
        return String(trimmed.prefix(Self.maxLength)) + "…"
    }
}
