import CommuneProtocol

/// A member in a call: their admission and what the others see of them (seed 001's `active_users`, seed 002's
/// `chatdev`, `golive` and `talking`).
public struct CallParticipant: Sendable, Hashable {
    /// The seed's `<user_state>`: `inactive` while the member's media is not connected, else what they chose.
    public enum State: String, Sendable, Hashable, CaseIterable {
        case active, muted, deafened, inactive
    }

    public var ticket: CallTicket
    public var joinedAt: Int64
    /// The member muted their own microphone.
    public var selfMuted = false
    /// The member hears nothing (and is muted).
    public var deafened = false
    /// Their call socket is up and (in SFU mode) their media is published.
    public var mediaConnected = false
    /// Sharing a screen or window (seed 002 `golive`).
    public var streaming = false
    /// What they share ("Firefox", "my slides"), shown next to the live badge.
    public var liveLabel = ""
    /// Devices the member's client reports (seed 002 `chatdev`).
    public var audio = true
    public var video = false
    /// Speaking now, as the SFU's audio levels say (in mesh mode, as the member's client says).
    public var talking = false

    public init(ticket: CallTicket, joinedAt: Int64) {
        self.ticket = ticket
        self.joinedAt = joinedAt
    }

    public var member: UUIDString { self.ticket.member }

    public var state: State {
        if !self.mediaConnected { return .inactive }
        if self.deafened { return .deafened }
        return self.selfMuted ? .muted : .active
    }

    /// The entry of `active_users` and the payload of `user_changed` (with `user_id` when `withID`).
    public func json(serverMuted: Bool, withID: Bool = false) -> JSONValue {
        var object: [String: JSONValue] = [
            "state": .string(self.state.rawValue),
            "streaming": .bool(self.streaming),
            "live_label": .string(self.liveLabel),
            "audio": .bool(self.audio),
            "video": .bool(self.video),
            "talking": .bool(self.talking && !serverMuted),
            "server_muted": .bool(serverMuted),
        ]
        if withID { object["user_id"] = .string(self.member.value) }
        return .object(object)
    }
}
