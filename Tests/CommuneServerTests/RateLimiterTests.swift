import Testing

@testable import CommuneServer

@Suite("Rate limiter")
struct RateLimiterTests {
    let start = ContinuousClock.now

    @Test("a bucket allows its burst, then the sustained rate")
    func bucket() {
        let limit = RateLimit(perSecond: 2, burst: 3)
        var bucket = TokenBucket(limit, now: self.start)
        #expect((0..<3).allSatisfy { _ in bucket.take(limit, now: self.start) == nil })
        let wait = bucket.take(limit, now: self.start)
        #expect(wait == .milliseconds(500))
        #expect(bucket.take(limit, now: self.start + .milliseconds(499)) != nil)
        // Two a second: one second after the burst, two more.
        #expect(bucket.take(limit, now: self.start + .milliseconds(1_000)) == nil)
        #expect(bucket.take(limit, now: self.start + .milliseconds(1_000)) == nil)
        #expect(bucket.take(limit, now: self.start + .milliseconds(1_000)) != nil)
        // A long quiet period refills only up to the burst.
        let later = self.start + .seconds(60)
        #expect((0..<3).allSatisfy { _ in bucket.take(limit, now: later) == nil })
        #expect(bucket.take(limit, now: later) != nil)
    }

    @Test("keys are limited separately")
    func keys() {
        let limiter = RateLimiter<String>(RateLimit(perSecond: 1, burst: 1))
        #expect(limiter.take("a", now: self.start) == nil)
        #expect(limiter.take("a", now: self.start) != nil)
        #expect(limiter.take("b", now: self.start) == nil)
    }

    @Test("the table stays bounded under a flood of distinct keys, and forgets refilled buckets")
    func bounded() {
        let limiter = RateLimiter<Int>(RateLimit(perSecond: 1, burst: 2), maxKeys: 100)
        for key in 0..<1_000 { _ = limiter.take(key, now: self.start) }
        #expect(limiter.count == 100)
        // Refused while full of busy buckets…
        #expect(limiter.take(5_000, now: self.start) != nil)
        // …and accepted once the old ones have refilled.
        #expect(limiter.take(5_000, now: self.start + .seconds(10)) == nil)
        #expect(limiter.count == 1)
    }
}
