import CommuneProtocol

/// A registered member of the community.
public struct Member: Sendable, Hashable {
    public var id: UUIDString
    public var username: String
    /// The raw 32-byte X25519 public key the member logs in with.
    public var publicKey: [UInt8]
    /// The group the member's invite placed them in.
    public var group: String
    /// Unix milliseconds.
    public var joinedAt: Int64
    /// What the member tells others about their availability (seed 004 "status change").
    public var status: MemberStatus = .online
    /// A short free text beside the status, up to 128 characters.
    public var statusText: String = ""
    /// Server-muted (seed 002 `servermute`): clients mute this member's audio.
    public var suppressed: Bool = false

    public init(id: UUIDString, username: String, publicKey: [UInt8], group: String, joinedAt: Int64) {
        self.id = id
        self.username = username
        self.publicKey = publicKey
        self.group = group
        self.joinedAt = joinedAt
    }
}

/// A member's chosen availability. Whether they are connected is presence (`online` in the member list), apart.
public enum MemberStatus: String, Sendable, Hashable, CaseIterable {
    case online
    case away
    case busy
}

/// A banned identity: neither its user id nor its key may register again (seed 003 bans, community-wide).
public struct Ban: Sendable, Hashable {
    public var userID: UUIDString
    public var publicKey: [UInt8]
    public var username: String
    public var reason: String
    /// The user id of the member who banned; `nil` when unknown (a ban recorded before the id was kept).
    public var bannedBy: UUIDString?
    /// The banning member's username at the time of the ban.
    public var bannedByName: String
    /// Unix milliseconds.
    public var time: Int64

    public init(
        userID: UUIDString, publicKey: [UInt8], username: String, reason: String, bannedBy: UUIDString?, bannedByName: String, time: Int64
    ) {
        self.userID = userID
        self.publicKey = publicKey
        self.username = username
        self.reason = reason
        self.bannedBy = bannedBy
        self.bannedByName = bannedByName
        self.time = time
    }
}
