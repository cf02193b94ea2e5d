import CommuneProtocol

extension CommuneConnection {
    /// Says that this member is writing in `channel` (a text channel). The server passes it on to the channel's
    /// other viewers as `member_typing {user_id}` at most once every few seconds per member and channel; call it
    /// while the member types (every 3 s or so is plenty), never on a timer of its own.
    public func typing(in channel: ChannelAddress) async throws {
        _ = try await self.call(TextFunction.typing, on: channel, codec: TextFunction.codec)
    }
}
