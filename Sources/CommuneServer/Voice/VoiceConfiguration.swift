/// How a server offers voice calls.
public struct VoiceConfiguration: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// The SFU when it is installed, else mesh calls.
        case auto
        /// Through the SFU (Janus) only.
        case sfu
        /// Browser to browser, the server relaying signalling only.
        case mesh
        /// No voice: `join_call` answers `voice_unavailable`.
        case off
    }

    public var mode: Mode = .auto
    /// The most members in one mesh call (each uploads their audio once per other member).
    public var maxMeshMembers = 6
    /// STUN URLs given to members (`stun:HOST:PORT`).
    public var stunURLs: [String] = []
    /// TURN URLs of an operator-run coturn with `use-auth-secret`, and its `static-auth-secret`.
    public var turnURLs: [String] = []
    public var turnSecret: String?
    /// How long a member's TURN credential is accepted; clients refresh theirs (`refresh_ice`) before it expires.
    public var turnCredentialLifetime: Duration = .seconds(6 * 3600)
    /// Commune's own TURN server (coturn), started when `turnserver` is installed and no ``turnURLs`` name
    /// another: on the media address, at ``turnPort``, relaying on ``turnRelayPorts``.
    public var ownTURN = true
    public var turnPort = 3478
    public var turnRelayPorts: ClosedRange<Int> = 21000...21999

    /// The most members in one SFU call.
    public var maxMembersPerCall = 25
    /// The address Janus offers browsers for media (its only ICE host candidate address, `ice_enforce_list`).
    /// `nil`: the machine's primary non-loopback address (Janus gathers nothing on a loopback interface).
    public var mediaIP: String?
    /// The public address in front of a 1:1 NAT, put in Janus's candidates instead of ``mediaIP``
    /// (`nat_1_1_mapping`).
    public var publicIP: String?
    /// The UDP ports Janus's media uses (`rtp_port_range`); open them in the firewall.
    public var mediaPorts: ClosedRange<Int> = 20000...20999
    /// The `janus` binary Commune starts; `nil`: `janus` on `PATH`.
    public var janusPath: String?
    /// An operator-run Janus (`ws://HOST:PORT/`, its WebSocket API) used instead of starting one; it needs the
    /// VideoRoom plugin with ``janusAdminKey`` as its `admin_key`, and ``janusAPISecret`` if it has an `api_secret`.
    public var janusURL: String?
    public var janusAPISecret: String?
    public var janusAdminKey: String?

    public init() {}

    /// The address media is offered on, and how it was chosen; `nil` on a machine with only loopback addresses.
    func resolvedMediaIP() -> (address: String, chosen: String)? {
        if let configured = self.mediaIP { return (configured, "as configured") }
        if let primary = MediaAddress.primary() { return (primary, "this machine's primary address; set --media-ip to choose another") }
        return nil
    }

    /// The ICE servers members are given, when any are configured.
    var iceProvider: ICEProvider? {
        guard !self.stunURLs.isEmpty || (!self.turnURLs.isEmpty && self.turnSecret != nil) else { return nil }
        return ICEProvider(
            stunURLs: self.stunURLs, turnURLs: self.turnSecret == nil ? [] : self.turnURLs, turnSecret: self.turnSecret ?? "",
            lifetime: self.turnCredentialLifetime
        )
    }
}

/// A voice setting the server cannot start with (an SFU asked for but not installed, a media address that is not
/// an address, …).
public struct VoiceConfigurationError: Error, CustomStringConvertible {
    public var description: String
}
