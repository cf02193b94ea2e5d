/// How often something may happen: `burst` at once, then `perSecond` on average (a token bucket).
public struct RateLimit: Sendable, Hashable, CustomStringConvertible {
    /// Sustained rate, in events per second.
    public var perSecond: Double
    /// Events allowed at once after a quiet period.
    public var burst: Double

    public init(perSecond: Double, burst: Double) {
        precondition(perSecond > 0 && burst >= 1, "A rate limit needs a positive rate and a burst of at least 1.")
        self.perSecond = perSecond
        self.burst = burst
    }

    /// `count` events per minute, `burst` at once.
    public static func perMinute(_ count: Double, burst: Double) -> RateLimit {
        RateLimit(perSecond: count / 60, burst: burst)
    }

    public var description: String { "\(self.perSecond)/s (burst \(self.burst))" }
}

/// One token bucket. Not thread-safe: owned by one connection's state or kept behind a ``RateLimiter``'s lock.
struct TokenBucket: Sendable {
    private var tokens: Double
    private var updated: ContinuousClock.Instant

    init(_ limit: RateLimit, now: ContinuousClock.Instant) {
        self.tokens = limit.burst
        self.updated = now
    }

    /// Takes one token if there is one; otherwise returns how long until there will be.
    mutating func take(_ limit: RateLimit, now: ContinuousClock.Instant) -> Duration? {
        self.refill(limit, now: now)
        if self.tokens >= 1 {
            self.tokens -= 1
            return nil
        }
        return .seconds((1 - self.tokens) / limit.perSecond)
    }

    /// Takes one token ahead of time if it will be there within `maxDelay` (the caller waits the returned time
    /// before going on); otherwise takes nothing and returns how long until a token would be there.
    mutating func reserve(_ limit: RateLimit, now: ContinuousClock.Instant, maxDelay: Duration) -> Duration? {
        self.refill(limit, now: now)
        if self.tokens >= 1 {
            self.tokens -= 1
            return nil
        }
        let wait = Duration.seconds((1 - self.tokens) / limit.perSecond)
        if wait <= maxDelay { self.tokens -= 1 }
        return wait
    }

    /// How long until a token is there, taking nothing (`nil`: there is one now).
    func wait(_ limit: RateLimit, now: ContinuousClock.Instant) -> Duration? {
        let tokens = min(limit.burst, self.tokens + Self.seconds(now - self.updated) * limit.perSecond)
        return tokens >= 1 ? nil : .seconds((1 - tokens) / limit.perSecond)
    }

    /// Whether the bucket would be full at `now` (it then carries no state worth keeping).
    func isFull(_ limit: RateLimit, now: ContinuousClock.Instant) -> Bool {
        self.tokens + Self.seconds(now - self.updated) * limit.perSecond >= limit.burst
    }

    private mutating func refill(_ limit: RateLimit, now: ContinuousClock.Instant) {
        let elapsed = Self.seconds(now - self.updated)
        if elapsed > 0 {
            self.tokens = min(limit.burst, self.tokens + elapsed * limit.perSecond)
            self.updated = now
        }
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
