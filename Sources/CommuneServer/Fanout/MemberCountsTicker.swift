import ServiceLifecycle

/// Sends the member counts to the connections whose member list does not hold every member, when they changed
/// (``ConnectionHub/sendMemberCounts()``): once a second, so that a login or a registration costs them at most one
/// update a second between them, however many there were; and less often in a community with more than
/// ``framesPerSecond`` connections, so that the counts never cost the server more than that many frames a second
/// (each is a `write` to a socket: 100,000 a second would take a whole core).
struct MemberCountsTicker: Service {
    let hub: ConnectionHub
    static let period: Duration = .seconds(1)
    /// The most `member_counts` frames the server sends in a second, over all its connections.
    static let framesPerSecond = 1_000

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: Self.interval(connections: self.hub.count))
                } catch {
                    break
                }
                self.hub.sendMemberCounts()
            }
        }
    }

    /// The time between two rounds of counts: ``period``, or one second per ``framesPerSecond`` connections when
    /// there are more (10,000 connections: 10 s; 100,000: 100 s). At 5,000 frames a second, a profile of logins with
    /// 17,000 members online put most of the server's core into writing `member_counts` (a loopback write costs
    /// tens of microseconds here); the counts are a summary, and the members a connection shows stay live.
    static func interval(connections: Int) -> Duration {
        max(Self.period, .milliseconds((connections * 1_000 + Self.framesPerSecond - 1) / Self.framesPerSecond))
    }
}
