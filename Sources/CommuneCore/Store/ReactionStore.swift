import CommuneProtocol

/// Emoji reactions on messages: who reacted to which message with which emoji. Each change is one critical section
/// (one transaction), so concurrent reactions keep counts exact and the limits hold.
public protocol ReactionStore: Sendable {
    /// Adds `member`'s reaction unless it is there already; refuses it (changing nothing) when the message has
    /// `maxPerMessage` distinct emoji and this is a new one, or the member has `maxPerMember` on the message already.
    func addReaction(_ reaction: Reaction, limits: ReactionLimits) async throws -> ReactionChange
    /// Removes `member`'s reaction if it is there.
    func removeReaction(_ reaction: Reaction) async throws -> ReactionChange
    /// The reactions on these messages of a channel, by message id, each message's emoji in the order they were first
    /// used; `me` says whether `viewer` reacted.
    func reactions(channelID: Int64, messageIDs: [Int64], viewer: UUIDString) async throws -> [Int64: [ReactionCount]]
    /// Who reacted to a message with `emoji`, in the order they did, skipping the first `skip`.
    func reactors(channelID: Int64, messageID: Int64, emoji: String, skip: Int, limit: Int) async throws -> [UUIDString]
}

/// One member's reaction with one emoji on one message.
public struct Reaction: Sendable, Hashable {
    public var channelID: Int64
    public var messageID: Int64
    public var emoji: String
    public var member: UUIDString
    /// Unix milliseconds.
    public var time: Int64

    public init(channelID: Int64, messageID: Int64, emoji: String, member: UUIDString, time: Int64) {
        self.channelID = channelID
        self.messageID = messageID
        self.emoji = emoji
        self.member = member
        self.time = time
    }
}

/// The bounds ``ReactionStore/addReaction(_:limits:)`` holds.
public struct ReactionLimits: Sendable, Hashable {
    /// Most distinct emoji on one message.
    public var maxPerMessage: Int
    /// Most distinct emoji one member uses on one message.
    public var maxPerMember: Int

    public init(maxPerMessage: Int, maxPerMember: Int) {
        self.maxPerMessage = maxPerMessage
        self.maxPerMember = maxPerMember
    }
}

/// What adding or removing a reaction did.
public enum ReactionChange: Sendable, Hashable {
    /// The reaction was added or removed; `count` members now react with the emoji.
    case changed(count: Int64)
    /// It was already there (adding) or not there (removing); `count` members react with the emoji.
    case unchanged(count: Int64)
    /// Refused: the message has as many distinct emoji as it may.
    case messageFull
    /// Refused: the member has as many reactions on the message as they may.
    case memberFull
}
