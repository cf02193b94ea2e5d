import CommuneProtocol

/// How a call's audio and video travel.
public enum CallMode: String, Sendable, Hashable {
    /// Through the server's SFU (Janus VideoRoom): each member uploads one stream, the SFU forwards it.
    case sfu
    /// Browser to browser; the server only relays their signalling on the call socket.
    case mesh
}

/// A STUN or TURN server a client may use in a call (a WebRTC `RTCIceServer`).
public struct ICEServer: Sendable, Hashable {
    public var urls: [String]
    /// TURN only: the short-lived user name (`EXPIRY:USER_ID`) and its password.
    public var username: String?
    public var credential: String?

    public init(urls: [String], username: String? = nil, credential: String? = nil) {
        self.urls = urls
        self.username = username
        self.credential = credential
    }

    public var json: JSONValue {
        var object: [String: JSONValue] = ["urls": .array(self.urls.map(JSONValue.string))]
        if let username { object["username"] = .string(username) }
        if let credential { object["credential"] = .string(credential) }
        return .object(object)
    }
}

/// The ICE servers handed to one member, and when their TURN credentials stop being accepted.
public struct ICEConfiguration: Sendable, Hashable {
    public var servers: [ICEServer]
    /// Unix milliseconds; `nil` when nothing in ``servers`` expires.
    public var expiresAt: Int64?

    public init(servers: [ICEServer], expiresAt: Int64? = nil) {
        self.servers = servers
        self.expiresAt = expiresAt
    }
}

/// One member's admission to one call: what their call socket must present, and the connection that joined.
public struct CallTicket: Sendable, Hashable {
    public var member: UUIDString
    /// The voice channel's interactable id.
    public var channel: Int64
    /// The logged-in connection that joined; the member leaves the call when it closes.
    public var connection: ConnectionID
    /// The call secret (random, 43 characters), valid until the member leaves.
    public var secret: String

    public init(member: UUIDString, channel: Int64, connection: ConnectionID, secret: String) {
        self.member = member
        self.channel = channel
        self.connection = connection
        self.secret = secret
    }
}

/// Where calls' media goes: the server provides it (Janus as an SFU, or browsers meshed with the server relaying
/// their signalling) and the voice codec asks it to admit and dismiss members and to enforce server mute. Every
/// request it gets has already passed the community's checks.
public protocol CallMedia: Sendable {
    var mode: CallMode { get }
    /// The most members one call may have.
    var maxMembersPerCall: Int { get }
    /// Whether calls can be joined right now (the SFU may be restarting).
    var isAvailable: Bool { get }

    /// STUN and TURN servers for `member`, with credentials of their own.
    func iceConfiguration(for member: UUIDString) -> ICEConfiguration

    /// Prepares the call's room if needed and lets the ticket's holder in. Throws `voice_unavailable` when the
    /// media server cannot be reached.
    func admit(_ ticket: CallTicket, serverMuted: Bool) async throws(CommuneError)

    /// Ends the member's media in the call: their admission is revoked, their media stops and their call socket
    /// is told `ended {reason}` and closed.
    func dismiss(_ ticket: CallTicket, reason: CallEndReason) async

    /// Stops (or restores) forwarding the member's audio to the others.
    func setServerMuted(_ muted: Bool, for ticket: CallTicket) async
}
