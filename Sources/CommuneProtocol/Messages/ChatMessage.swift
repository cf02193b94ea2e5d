/// A text channel message as `message_chunk`, `message_live`, `message_edited` and `message_removed` carry it.
public struct ChatMessage: Sendable, Hashable {
    /// The message's number in its channel: 1, 2, 3, … in the order the server committed them.
    public var messageID: Int64
    public var message: String
    /// Unix time in milliseconds when the server accepted the message.
    public var sendTime: Int64
    /// `nil` once the message is removed.
    public var senderID: UUIDString?
    /// A plain message, or a `/me` action (seed 004).
    public var kind: MessageKind
    /// Whether the text was changed after sending.
    public var edited: Bool
    public var attachments: [AttachmentInfo]
    /// The message this one replies to, as a preview; `nil` for a message that is not a reply.
    public var replyTo: ReplyPreview?
    /// The reactions, in the order their emoji were first used; only `message_chunk` carries them (with `me` for the
    /// reader), and only when there are some.
    public var reactions: [ReactionCount]
    /// The members the message mentions (by a `<@USER_ID>` token or a typed `@name`), each once.
    public var mentions: [UUIDString]
    /// Whether the message mentions `@everyone`.
    public var mentionsEveryone: Bool

    public init(
        messageID: Int64, message: String, sendTime: Int64, senderID: UUIDString?, kind: MessageKind = .text, edited: Bool = false,
        attachments: [AttachmentInfo] = [], replyTo: ReplyPreview? = nil, reactions: [ReactionCount] = [], mentions: [UUIDString] = [],
        mentionsEveryone: Bool = false
    ) {
        self.messageID = messageID
        self.message = message
        self.sendTime = sendTime
        self.senderID = senderID
        self.kind = kind
        self.edited = edited
        self.attachments = attachments
        self.replyTo = replyTo
        self.reactions = reactions
        self.mentions = mentions
        self.mentionsEveryone = mentionsEveryone
    }

    public init(json: JSONValue) throws(CommuneError) {
        let reader = try PayloadReader(json, context: "message")
        self.messageID = try reader.int("message_id")
        self.message = try reader.string("message")
        self.sendTime = try reader.int("send_time")
        self.senderID = try reader.optionalString("sender_id").flatMap(UUIDString.init)
        self.kind = MessageKind(rawValue: try reader.optionalString("kind") ?? "") ?? .text
        self.edited = try reader.optionalBool("edited") ?? false
        self.attachments = try (json["attachments"]?.arrayValue ?? []).map { value throws(CommuneError) in try AttachmentInfo(json: value) }
        if let reply = json["reply_to"], reply != .null { self.replyTo = try ReplyPreview(json: reply) }
        self.reactions = try (json["reactions"]?.arrayValue ?? []).map { value throws(CommuneError) in try ReactionCount(json: value) }
        self.mentions = (json["mentions"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(UUIDString.init) }
        self.mentionsEveryone = try reader.optionalBool("mentions_everyone") ?? false
    }

    /// The wire object; `reply_to` only on a reply, `reactions` only when there are some.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "message_id": .int(self.messageID), "message": .string(self.message), "send_time": .int(self.sendTime),
            "sender_id": self.senderID.map { .string($0.value) } ?? .null, "kind": .string(self.kind.rawValue),
            "edited": .bool(self.edited), "attachments": .array(self.attachments.map(\.json)),
            "mentions": .array(self.mentions.map { .string($0.value) }), "mentions_everyone": .bool(self.mentionsEveryone),
        ]
        if let replyTo { object["reply_to"] = replyTo.json }
        if !self.reactions.isEmpty { object["reactions"] = .array(self.reactions.map(\.json)) }
        return .object(object)
    }
}

/// What a text message is: said, or done (`/me waves`, seed 004's action).
public enum MessageKind: String, Sendable, Hashable, CaseIterable {
    case text
    case action
}
