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

    public init(channelID: Int64, messageID: Int64, senderID: UUIDString?, text: String, sendTime: Int64) {
        self.channelID = channelID
        self.messageID = messageID
        self.senderID = senderID
        self.text = text
        self.sendTime = sendTime
    }

    /// The wire form.
    public var chatMessage: ChatMessage {
        ChatMessage(messageID: self.messageID, message: self.text, sendTime: self.sendTime, senderID: self.senderID)
    }
}

/// A message to append; the store assigns its `messageID`.
public struct NewMessage: Sendable, Hashable {
    public var channelID: Int64
    public var senderID: UUIDString
    public var text: String
    public var sendTime: Int64

    public init(channelID: Int64, senderID: UUIDString, text: String, sendTime: Int64) {
        self.channelID = channelID
        self.senderID = senderID
        self.text = text
        self.sendTime = sendTime
    }
}
