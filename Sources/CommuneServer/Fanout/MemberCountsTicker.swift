import ServiceLifecycle

/// Once a second, sends the member counts to the connections whose member list does not hold every member, when
/// they changed (``ConnectionHub/sendMemberCounts()``): a login or a registration costs them at most one update a
/// second between them, however many there were.
struct MemberCountsTicker: Service {
    let hub: ConnectionHub
    static let period: Duration = .seconds(1)

    func run() async throws {
        await repeatEvery(Self.period) { self.hub.sendMemberCounts() }
    }
}
