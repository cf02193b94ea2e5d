import Testing

@testable import CommuneServer

@Suite("Member counts: a second apart, further apart when there are too many connections to tell each second")
struct MemberCountsTickerTests {
    @Test("at most 1,000 member_counts frames a second over all connections")
    func interval() {
        #expect(MemberCountsTicker.interval(connections: 0) == .seconds(1))
        #expect(MemberCountsTicker.interval(connections: 1) == .seconds(1))
        #expect(MemberCountsTicker.interval(connections: 1_000) == .seconds(1))
        #expect(MemberCountsTicker.interval(connections: 1_500) == .milliseconds(1_500))
        #expect(MemberCountsTicker.interval(connections: 10_000) == .seconds(10))
        #expect(MemberCountsTicker.interval(connections: 100_000) == .seconds(100))
        for connections in stride(from: 0, through: 1_000_000, by: 7_919) {
            let interval = MemberCountsTicker.interval(connections: connections).components
            let milliseconds = interval.seconds * 1_000 + interval.attoseconds / 1_000_000_000_000_000
            #expect(milliseconds >= Int64(connections), "\(connections) connections")  // one frame a millisecond at most
        }
    }
}
