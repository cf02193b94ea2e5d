/// One emoji's reactions on a message, as `message_chunk` carries them: how many members reacted with it, and
/// whether the reader did.
public struct ReactionCount: Sendable, Hashable {
    public var emoji: String
    public var count: Int64
    /// Whether the member who asked for the history reacted with this emoji.
    public var me: Bool

    public init(emoji: String, count: Int64, me: Bool) {
        self.emoji = emoji
        self.count = count
        self.me = me
    }

    public init(json: JSONValue) throws(CommuneError) {
        let reader = try PayloadReader(json, context: "reaction")
        self.emoji = try reader.string("emoji")
        self.count = try reader.int("count")
        self.me = try reader.optionalBool("me") ?? false
    }

    public var json: JSONValue {
        ["emoji": .string(self.emoji), "count": .int(self.count), "me": .bool(self.me)]
    }
}
