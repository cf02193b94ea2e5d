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
    /// Most members one `get_members` page holds (and shows afterwards).
    public var maxMemberPage: Int = 200
    /// Members per `get_members` page when `limit` is omitted, and the page a connection shows from login.
    public var defaultMemberPage: Int = 100
    /// Most members one `get_members {query}` (a search by the start of a name) returns.
    public var maxMemberSearch: Int = 50
    /// Members a `get_members {query}` returns when `limit` is omitted.
    public var defaultMemberSearch: Int = 10
    /// How long a login challenge stays valid, in milliseconds.
    public var challengeLifetimeMilliseconds: Int64 = 30_000

    /// Most attachments one message may carry.
    public var maxAttachmentsPerMessage: Int = 4
    /// Largest uploaded attachment, in bytes.
    public var maxAttachmentBytes: Int = 8 << 20
    /// Longest channel topic, in Unicode code points.
    public var maxTopicLength: Int = 512
    /// Longest status text, in Unicode code points.
    public var maxStatusTextLength: Int = 128
    /// Longest community description, in Unicode code points.
    public var maxDescriptionLength: Int = 1_000
    /// Most distinct emoji reactions one message may carry.
    public var maxReactionsPerMessage: Int = 20
    /// Most distinct emoji one member may react with on one message.
    public var maxReactionsPerMemberPerMessage: Int = 10
    /// Most pinned messages one channel may have.
    public var maxPinsPerChannel: Int = 50
    /// Most distinct members (and `@everyone`) one message may mention.
    public var maxMentionsPerMessage: Int = 20
    /// Whether members may keep their home here (`add_community`, `get_communities`, …: ``HomeFunctions``);
    /// `commune serve --homes off` turns it off.
    public var homes: Bool = true
    /// Most entries one member's home may hold.
    public var maxHomeEntries: Int = 500
    /// How long an HTTP session token from login stays valid, in milliseconds.
    public var sessionTokenLifetimeMilliseconds: Int64 = 24 * 3_600_000

    public init() {}
}
