import Synchronization

/// Token buckets by key (a source address, a user id), shared by every connection of the server.
///
/// Memory stays bounded: when the table reaches ``maxKeys`` it drops the buckets that have refilled (they carry no
/// state), and if that is not enough, refuses new keys until some refill — a flood of distinct keys cannot grow it.
final class RateLimiter<Key: Hashable & Sendable>: Sendable {
    let limit: RateLimit
    let maxKeys: Int
    private let buckets = Mutex<[Key: TokenBucket]>([:])

    init(_ limit: RateLimit, maxKeys: Int = 100_000) {
        self.limit = limit
        self.maxKeys = maxKeys
    }

    /// Takes one event for `key`: `nil` when allowed, otherwise how long to wait.
    func take(_ key: Key, now: ContinuousClock.Instant = .now) -> Duration? {
        self.withBucket(key, now: now, refused: .seconds(1 / self.limit.perSecond)) { $0.take(self.limit, now: now) }
    }

    /// Takes one event for `key` ahead of time when its token comes within `maxDelay` (the caller waits the returned
    /// time); otherwise takes nothing and returns the (longer) wait. `nil`: go on at once.
    func reserve(_ key: Key, now: ContinuousClock.Instant = .now, maxDelay: Duration) -> Duration? {
        self.withBucket(key, now: now, refused: .seconds(1 / self.limit.perSecond) + maxDelay) {
            $0.reserve(self.limit, now: now, maxDelay: maxDelay)
        }
    }

    /// Runs `body` on `key`'s bucket, making one if the table has room; `refused` when it has none.
    private func withBucket(
        _ key: Key, now: ContinuousClock.Instant, refused: Duration, _ body: (inout TokenBucket) -> Duration?
    ) -> Duration? {
        self.buckets.withLock { buckets in
            if buckets[key] == nil {
                if buckets.count >= self.maxKeys {
                    buckets = buckets.filter { !$0.value.isFull(self.limit, now: now) }
                }
                guard buckets.count < self.maxKeys else { return refused }
                buckets[key] = TokenBucket(self.limit, now: now)
            }
            return body(&buckets[key]!)
        }
    }

    /// How long until `key` may go on, taking nothing (`nil`: at once).
    func wait(_ key: Key, now: ContinuousClock.Instant = .now) -> Duration? {
        self.buckets.withLock { $0[key]?.wait(self.limit, now: now) }
    }

    /// Buckets held now.
    var count: Int { self.buckets.withLock { $0.count } }
}
