import Synchronization

/// Counts open connections per source address and those not logged in yet (``ConnectionLimits``), for the whole
/// server. Each admitted connection holds a ``ConnectionAdmission`` that gives its place back when it closes.
final class ConnectionLimiter: Sendable {
    let limits: ConnectionLimits
    private struct Counts {
        var byAddress: [String: Int] = [:]
        var beforeLogin = 0
    }
    private let counts = Mutex(Counts())

    init(_ limits: ConnectionLimits) {
        self.limits = limits
    }

    /// Why a new connection is refused.
    enum Refusal: Error, Equatable {
        case tooManyFromAddress
        case tooManyBeforeLogin
    }

    /// Admits a new connection from `address` (`nil`: not counted per address, as for a trusted proxy).
    func admit(address: String?) -> Result<ConnectionAdmission, Refusal> {
        self.counts.withLock { counts in
            if let address, counts.byAddress[address, default: 0] >= self.limits.maxConnectionsPerAddress {
                return .failure(.tooManyFromAddress)
            }
            guard counts.beforeLogin < self.limits.maxConnectionsBeforeLogin else { return .failure(.tooManyBeforeLogin) }
            counts.beforeLogin += 1
            if let address { counts.byAddress[address, default: 0] += 1 }
            return .success(ConnectionAdmission(limiter: self, address: address))
        }
    }

    fileprivate func loggedIn() {
        self.counts.withLock { $0.beforeLogin -= 1 }
    }

    fileprivate func closed(address: String?, loggedIn: Bool) {
        self.counts.withLock { counts in
            if !loggedIn { counts.beforeLogin -= 1 }
            guard let address, let count = counts.byAddress[address] else { return }
            counts.byAddress[address] = count > 1 ? count - 1 : nil
        }
    }

    /// Connections open now from `address`, and all those not logged in.
    func counts(for address: String) -> (address: Int, beforeLogin: Int) {
        self.counts.withLock { ($0.byAddress[address, default: 0], $0.beforeLogin) }
    }
}

/// One admitted connection's place in the ``ConnectionLimiter``: before login it counts against
/// ``ConnectionLimits/maxConnectionsBeforeLogin`` and its messages against
/// ``ConnectionLimits/maxMessageBytesBeforeLogin``; the WebSocket's login moves it out of that pool.
final class ConnectionAdmission: Sendable {
    private enum Phase: UInt8, AtomicRepresentable { case beforeLogin, loggedIn, closed }
    private let phase = Atomic<Phase>(.beforeLogin)
    private let limiter: ConnectionLimiter?
    private let address: String?

    init(limiter: ConnectionLimiter?, address: String?) {
        self.limiter = limiter
        self.address = address
    }

    /// An admission counted nowhere (a server without connection limits, or a test).
    static func uncounted() -> ConnectionAdmission { ConnectionAdmission(limiter: nil, address: nil) }

    var isLoggedIn: Bool { self.phase.load(ordering: .relaxed) == .loggedIn }

    /// The connection's member logged in.
    func loggedIn() {
        if self.phase.compareExchange(expected: .beforeLogin, desired: .loggedIn, ordering: .relaxed).exchanged {
            self.limiter?.loggedIn()
        }
    }

    /// The connection closed: its places are free again.
    func closed() {
        let previous = self.phase.exchange(.closed, ordering: .relaxed)
        guard previous != .closed else { return }
        self.limiter?.closed(address: self.address, loggedIn: previous == .loggedIn)
    }
}
