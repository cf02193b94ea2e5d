import CommuneCore
import CommuneProtocol
import Testing

@Suite("Typing throttle")
struct TypingThrottleTests {
    @Test("one broadcast per member and channel per window; bounded memory still lets new typers through")
    func window() {
        let throttle = TypingThrottle(window: .seconds(3), capacity: 2)
        let start = ContinuousClock.now
        let (alice, bob, carol) = (UUIDString.random(), UUIDString.random(), UUIDString.random())
        #expect(throttle.shouldBroadcast(member: alice, channel: 1, now: start))
        #expect(!throttle.shouldBroadcast(member: alice, channel: 1, now: start + .seconds(2)))
        #expect(throttle.shouldBroadcast(member: alice, channel: 2, now: start + .seconds(2)))
        // Full of recent entries: a new typer is broadcast, not remembered.
        #expect(throttle.shouldBroadcast(member: bob, channel: 1, now: start + .seconds(2)))
        #expect(throttle.shouldBroadcast(member: bob, channel: 1, now: start + .seconds(2)))
        #expect(throttle.shouldBroadcast(member: alice, channel: 1, now: start + .seconds(3)))
        // Expired entries make room.
        #expect(throttle.shouldBroadcast(member: carol, channel: 1, now: start + .seconds(10)))
        #expect(!throttle.shouldBroadcast(member: carol, channel: 1, now: start + .seconds(11)))
    }
}
