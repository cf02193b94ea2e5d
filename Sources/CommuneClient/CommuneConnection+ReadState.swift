import CommuneProtocol

/// Where this member stopped reading one channel.
public struct ChannelReadState: Sendable, Hashable {
    public var channel: ChannelAddress
    /// The id of the last message read there (0: none).
    public var lastRead: Int64
    /// The id of the channel's newest message (0: none).
    public var lastMessageID: Int64
    /// Messages after ``lastRead``.
    public var unread: Int64
    /// Unread messages (after ``lastRead``) that mention this member or everyone.
    public var mentions: Int64

    public init(channel: ChannelAddress, lastRead: Int64, lastMessageID: Int64, unread: Int64, mentions: Int64 = 0) {
        self.channel = channel
        self.lastRead = lastRead
        self.lastMessageID = lastMessageID
        self.unread = unread
        self.mentions = mentions
    }
}

extension CommuneConnection {
    /// This member's read state in every channel they can read (the same on all their devices).
    public func readState() async throws -> [ChannelReadState] {
        let result = try await self.community("get_read_state")
        guard let list = result.payload["channels"]?.arrayValue else {
            throw CommuneClientError.unexpectedReply("read_state without channels")
        }
        return try list.map { value in
            let reader = try PayloadReader(value, context: "channels[]")
            return ChannelReadState(
                channel: ChannelAddress(path: try reader.string("path"), name: try reader.string("name")),
                lastRead: try reader.int("last_read"), lastMessageID: try reader.int("last_message_id"), unread: try reader.int("unread"),
                mentions: try reader.optionalInt("mentions") ?? 0
            )
        }
    }

    /// Marks `channel` read up to `messageID` on all this member's devices; a mark behind the current one changes
    /// nothing. Returns the mark now in force and how many messages remain unread after it.
    @discardableResult
    public func markRead(_ channel: ChannelAddress, upTo messageID: Int64) async throws -> (lastRead: Int64, unread: Int64) {
        let result = try await self.call("mark_read", on: channel, payload: ["message_id": .int(messageID)])
        let reader = try PayloadReader(result.payload, context: "payload")
        return (try reader.int("message_id"), try reader.int("unread"))
    }
}
