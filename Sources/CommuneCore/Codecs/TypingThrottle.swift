import CommuneProtocol
import Synchronization

/// Which members' typing was broadcast in which channel lately: at most one broadcast per member per channel per
/// ``window``. Memory only (a typing indicator is worth nothing after a few seconds), and bounded: once it holds
/// ``capacity`` entries, entries older than the window are dropped before a new one is added, and if every entry is
/// recent the new one is broadcast without being remembered.
public final class TypingThrottle: Sendable {
    /// How long after a broadcast the same member's typing in the same channel is answered but not broadcast.
    public let window: Duration
    public let capacity: Int

    private struct Key: Hashable {
        var member: UUIDString
        var channel: Int64
    }

    private let last = Mutex<[Key: ContinuousClock.Instant]>([:])

    public init(window: Duration = .seconds(3), capacity: Int = 10_000) {
        self.window = window
        self.capacity = capacity
    }

    /// Whether `member` typing in `channel` at `now` is to be broadcast (and if so, remembers it).
    public func shouldBroadcast(member: UUIDString, channel: Int64, now: ContinuousClock.Instant = .now) -> Bool {
        let key = Key(member: member, channel: channel)
        return self.last.withLock { last in
            if let previous = last[key], now - previous < self.window { return false }
            if last[key] == nil, last.count >= self.capacity {
                last = last.filter { now - $0.value < self.window }
                if last.count >= self.capacity { return true }
            }
            last[key] = now
            return true
        }
    }
}
