/// The server's rate limits: what one connection, one member and one source address may do, and how long a request
/// over its limit is held back before it is refused with `rate_limited`.
///
/// A request just over a limit is delayed (at most ``maxDelay``), so a script that waits for each reply is slowed
/// down rather than failed; a request that would have to wait longer, or that keeps a connection over its limits
/// for more than ``maxDelayedInARow`` requests, is refused, and a client that keeps being refused is disconnected
/// (``ServerConfiguration/maxConsecutiveErrors``). The defaults leave people, and bots that wait for replies,
/// unaffected.
public struct RateLimits: Sendable, Hashable {
    /// Every request on one connection (a `ping` included).
    public var requestsPerConnection = RateLimit(perSecond: 50, burst: 200)
    /// Messages one member sends, over all their connections.
    public var messagesPerMember = RateLimit(perSecond: 20, burst: 60)
    /// Registrations from one source address.
    public var registrationsPerAddress = RateLimit.perMinute(30, burst: 30)
    /// Login attempts (`identification`) from one source address.
    public var loginsPerAddress = RateLimit.perMinute(120, burst: 60)
    /// Failed challenge answers from one source address; when spent, logins from it are refused until it refills.
    public var failedLoginsPerAddress = RateLimit.perMinute(10, burst: 10)
    /// Failed challenge answers for one user id, from anywhere.
    public var failedLoginsPerUser = RateLimit.perMinute(5, burst: 5)
    /// Attachment uploads by one member.
    public var uploadsPerMember = RateLimit.perMinute(30, burst: 10)
    /// The longest a request over its limit is held back before it is refused instead.
    public var maxDelay: Duration = .seconds(2)
    /// Requests held back in a row on one connection before the next ones are refused: a client that keeps
    /// sending faster than its limits is cut off (and, refused ten times in a row, disconnected) rather than
    /// slowed forever.
    public var maxDelayedInARow = 100

    public init() {}
}
