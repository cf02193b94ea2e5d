import CommuneProtocol

/// A text message as the store keeps it.
public struct StoredMessage: Sendable, Hashable {
    public var channelID: Int64
    /// 1, 2, 3, … per channel, in commit order.
    public var messageID: Int64
    /// `nil` once a message is removed (seed 002: the slot stays, the sender goes).
    public var senderID: UUIDString?
    public var text: String
    /// Unix milliseconds.
    public var sendTime: Int64
    public var kind: MessageKind
    public var edited: Bool
    public var attachments: [AttachmentInfo]
    /// The message (in the same channel) this one replies to.
    public var replyTo: Int64?
    /// The members it mentions (``TextMentions``), each once, in the order first mentioned; none once removed.
    public var mentions: [UUIDString]
    /// Whether it mentions `@everyone`.
    public var mentionsEveryone: Bool

    public init(
        channelID: Int64, messageID: Int64, senderID: UUIDString?, text: String, sendTime: Int64, kind: MessageKind = .text,
        edited: Bool = false, attachments: [AttachmentInfo] = [], replyTo: Int64? = nil, mentions: [UUIDString] = [],
        mentionsEveryone: Bool = false
    ) {
        self.channelID = channelID
        self.messageID = messageID
        self.senderID = senderID
        self.text = text
        self.sendTime = sendTime
        self.kind = kind
        self.edited = edited
        self.attachments = attachments
        self.replyTo = replyTo
        self.mentions = mentions
        self.mentionsEveryone = mentionsEveryone
    }

    /// The wire form, without the reply's preview (``TextReplies`` adds it).
    public var chatMessage: ChatMessage {
        ChatMessage(
            messageID: self.messageID, message: self.text, sendTime: self.sendTime, senderID: self.senderID, kind: self.kind,
            edited: self.edited, attachments: self.attachments, mentions: self.mentions, mentionsEveryone: self.mentionsEveryone
        )
    }
}

/// A message to append; the store assigns its `messageID`.
public struct NewMessage: Sendable, Hashable {
    public var channelID: Int64
    public var senderID: UUIDString
    public var text: String
    public var sendTime: Int64
    public var kind: MessageKind
    public var attachments: [AttachmentInfo]
    /// The message (in the same channel) this one replies to; the caller has checked that it exists.
    public var replyTo: Int64?
    /// The sender's own number for this message (seed 004's per-sender message number): a second append with the
    /// same sender and number returns the first message instead of storing another.
    public var senderNumber: Int64?
    /// The members it mentions, each once; the caller has checked them (``TextMentions``).
    public var mentions: [UUIDString]
    /// Whether it mentions `@everyone`.
    public var mentionsEveryone: Bool

    public init(
        channelID: Int64, senderID: UUIDString, text: String, sendTime: Int64, kind: MessageKind = .text,
        attachments: [AttachmentInfo] = [], senderNumber: Int64? = nil, replyTo: Int64? = nil, mentions: [UUIDString] = [],
        mentionsEveryone: Bool = false
    ) {
        self.channelID = channelID
        self.senderID = senderID
        self.text = text
        self.sendTime = sendTime
        self.kind = kind
        self.attachments = attachments
        self.senderNumber = senderNumber
        self.replyTo = replyTo
        self.mentions = mentions
        self.mentionsEveryone = mentionsEveryone
    }
}

/// What appending a message did.
public struct AppendedMessage: Sendable, Hashable {
    public var message: StoredMessage
    /// `false` when the sender's number matched a message stored earlier, which is returned instead.
    public var isNew: Bool

    public init(message: StoredMessage, isNew: Bool) {
        self.message = message
        self.isNew = isNew
    }
}
