import Testing

@testable import CommuneServer

@Suite("Member counts: a second apart, further apart when there are too many connections to tell each second")
struct MemberCountsTickerTests {
    @Test("at most 5,000 member_counts frames a second over all connections")
    func interval() {
        #expect(MemberCountsTicker.interval(connections: 0) == .seconds(1))
        #expect(MemberCountsTicker.interval(connections: 1) == .seconds(1))
        #expect(MemberCountsTicker.interval(connections: 5_000) == .seconds(1))
        #expect(MemberCountsTicker.interval(connections: 7_500) == .milliseconds(1_500))
        #expect(MemberCountsTicker.interval(connections: 10_000) == .seconds(2))
        #expect(MemberCountsTicker.interval(connections: 100_000) == .seconds(20))
        for connections in stride(from: 0, through: 1_000_000, by: 7_919) {
            let seconds = Double(MemberCountsTicker.interval(connections: connections).components.seconds)
                + Double(MemberCountsTicker.interval(connections: connections).components.attoseconds) / 1e18
            #expect(Double(connections) / seconds <= 5_000)
        }
    }
}
