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

    public init() {}

    /// The ICE servers members are given, when any are configured.
    var iceProvider: ICEProvider? {
        guard !self.stunURLs.isEmpty || (!self.turnURLs.isEmpty && self.turnSecret != nil) else { return nil }
        return ICEProvider(stunURLs: self.stunURLs, turnURLs: self.turnSecret == nil ? [] : self.turnURLs, turnSecret: self.turnSecret ?? "")
    }
}
