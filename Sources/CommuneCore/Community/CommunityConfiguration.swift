/// Limits and defaults of a community. A `Sendable` value with sane defaults; the server passes it in.
public struct CommunityConfiguration: Sendable {
    /// The community's display name when the store has none yet.
    public var defaultName: String = "Commune"
    /// Longest text message, in Unicode code points.
    public var maxMessageLength: Int = 4_000
    /// Longest display name, in Unicode code points.
    public var maxUsernameLength: Int = 32
    /// Most messages one `get_messages` returns.
    public var maxHistoryPage: Int = 100
    /// Messages per `get_messages` page when `amount` is omitted.
    public var defaultHistoryPage: Int = 50
    /// How long a login challenge stays valid, in milliseconds.
    public var challengeLifetimeMilliseconds: Int64 = 30_000

    public init() {}
}
