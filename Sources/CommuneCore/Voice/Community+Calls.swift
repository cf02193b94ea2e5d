import CommuneProtocol

/// What happens to calls from outside a `function` request: a connection closes, a call socket connects or drops,
/// the SFU hears someone talk, a moderator server-mutes someone. Each returns the updates to push.
extension Community {
    /// The `voice` result `name` addressed at the voice channel `channel` (`nil` if it is gone).
    func callResult(_ name: String, channel: Int64, _ payload: JSONValue) -> FunctionResult? {
        guard let node = self.interactable(channel) else { return nil }
        return FunctionResult(codec: VoiceChannelCodec.codecName, address: self.tree.address(of: node), result: name, payload: payload)
    }

    /// `user_changed` for `participant`, to everyone who sees the channel.
    func userChanged(_ participant: CallParticipant) -> [Update] {
        let serverMuted = self.member(participant.member)?.suppressed ?? false
        let payload = participant.json(serverMuted: serverMuted, withID: true)
        guard let result = self.callResult(VoiceChannelCodec.userChanged, channel: participant.ticket.channel, payload) else { return [] }
        return [Update(result, to: .viewers(ofChannel: participant.ticket.channel))]
    }

    /// `user_left` for `participant` to the channel's viewers, `call_ended` to the connection that was in the call
    /// when it did not leave by itself, and the end of their media.
    func participantLeft(_ participant: CallParticipant, reason: CallEndReason, tellConnection: Bool) async -> [Update] {
        await self.calls.media?.dismiss(participant.ticket, reason: reason)
        let channel = participant.ticket.channel
        var updates: [Update] = []
        if let left = self.callResult(
            VoiceChannelCodec.userLeft, channel: channel, ["user_id": .string(participant.member.value), "reason": .string(reason.rawValue)]
        ) {
            updates.append(Update(left, to: .viewers(ofChannel: channel)))
        }
        if tellConnection, let ended = self.callResult(VoiceChannelCodec.callEnded, channel: channel, ["reason": .string(reason.rawValue)]) {
            updates.append(Update(ended, to: .connection(participant.ticket.connection)))
        }
        return updates
    }

    /// A logged-in connection closed: its member leaves the call they joined from it.
    public func callConnectionClosed(_ connection: ConnectionID, member: UUIDString) async -> [Update] {
        guard let participant = self.calls.leave(member, connection: connection) else { return [] }
        return await self.participantLeft(participant, reason: .disconnected, tellConnection: false)
    }

    /// The call socket holding `secret` connected its media (or lost it): the member is `inactive` while it is down.
    public func callMediaChanged(member: UUIDString, secret: String, connected: Bool) -> [Update] {
        guard let participant = self.calls.update(member, secret: secret, { $0.mediaConnected = connected; if !connected { $0.talking = false } })
        else { return [] }
        return self.userChanged(participant)
    }

    /// The SFU heard `member` start or stop talking (a server-muted member is never shown talking).
    public func callTalking(member: UUIDString, talking: Bool) -> [Update] {
        guard let before = self.calls.participant(member), before.talking != talking,
            let participant = self.calls.update(member, { $0.talking = talking })
        else { return [] }
        let shown = talking && !(self.member(member)?.suppressed ?? false)
        guard let result = self.callResult(
            VoiceChannelCodec.talking, channel: participant.ticket.channel, ["user_id": .string(member.value), "talking": .bool(shown)]
        ) else { return [] }
        return [Update(result, to: .viewers(ofChannel: participant.ticket.channel))]
    }

    /// A member's server mute changed: the media enforces it and the call's viewers see it.
    func callServerMuteChanged(_ member: Member) async -> [Update] {
        guard let participant = self.calls.participant(member.id) else { return [] }
        await self.calls.media?.setServerMuted(member.suppressed, for: participant.ticket)
        return self.userChanged(participant)
    }

    /// The media server dropped every call (it restarted): members are told and may join again.
    public func endAllCalls(reason: CallEndReason) async -> [Update] {
        var updates: [Update] = []
        for channel in self.calls.channelsWithCalls() {
            for participant in self.calls.endCall(in: channel) {
                updates += await self.participantLeft(participant, reason: reason, tellConnection: true)
            }
        }
        return updates
    }

    /// A voice channel was removed: its call ends.
    func callChannelRemoved(_ channel: Int64, address: ChannelAddress) async -> [Update] {
        var updates: [Update] = []
        for participant in self.calls.endCall(in: channel) {
            await self.calls.media?.dismiss(participant.ticket, reason: .channelRemoved)
            let ended = FunctionResult(
                codec: VoiceChannelCodec.codecName, address: address, result: VoiceChannelCodec.callEnded,
                payload: ["reason": .string(CallEndReason.channelRemoved.rawValue)]
            )
            updates.append(Update(ended, to: .connection(participant.ticket.connection)))
        }
        return updates
    }
}

/// Why a member left a call, in `user_left.reason` and `call_ended.reason`.
public enum CallEndReason: String, Sendable {
    /// They called `leave_call`.
    case left
    /// The connection that joined closed.
    case disconnected
    /// They joined another call, or this one from another device.
    case moved
    /// The voice channel was removed.
    case channelRemoved = "channel_removed"
    /// The media server restarted; join again.
    case mediaRestarted = "media_restarted"
    /// The member may no longer see the voice channel (it was made private, or their group changed).
    case noAccess = "no_access"
    /// The member was removed from the community or banned.
    case removed
}
