import CommuneProtocol

/// Where each member stopped reading each text channel: the id of the last message they read there. Message ids
/// are dense per channel, so a channel's unread count is its last message id minus the member's mark, and storing
/// read state costs one row per member and channel, written when the member reads — never per delivered message.
public protocol ReadStateStore: Sendable {
    /// The member's read marks: channel id → the last message id read there (channels never read are absent).
    func readMarks(memberID: UUIDString) async throws -> [Int64: Int64]
    /// Stores marks, each only moving forward: a mark lower than the stored one leaves the stored one.
    func saveReadMarks(_ marks: [ReadMark]) async throws
    /// The id of the newest message of each of these channels (0 for a channel with none).
    func lastMessageIDs(channelIDs: [Int64]) async throws -> [Int64: Int64]
    /// For each channel of `marks` (channel id → the member's read mark, 0 for none), how many messages after the mark
    /// mention the member or everyone, not counting removed messages or the member's own.
    func mentionCounts(memberID: UUIDString, after marks: [Int64: Int64]) async throws -> [Int64: Int64]
}

/// A member read a channel up to a message.
public struct ReadMark: Sendable, Hashable {
    public var memberID: UUIDString
    public var channelID: Int64
    public var messageID: Int64

    public init(memberID: UUIDString, channelID: Int64, messageID: Int64) {
        self.memberID = memberID
        self.channelID = channelID
        self.messageID = messageID
    }
}
