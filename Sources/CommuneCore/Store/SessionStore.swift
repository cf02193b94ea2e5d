import CommuneProtocol
import Synchronization

/// The HTTP session tokens handed out at login (the bearer tokens of the attachment API).
///
/// One server keeps them in memory (``InMemorySessionStore``); a cluster shares them through its database so that
/// a token from one node works on another.
public protocol SessionStore: Sendable {
    /// Records `token` for `member` until `expiresAt` (Unix milliseconds).
    func issue(_ token: String, for member: UUIDString, expiresAt: Int64) async throws
    /// The member a token belongs to while it is valid at `now`.
    func member(forToken token: String, now: Int64) async throws -> UUIDString?
    /// Forgets every token of `member` (removed or banned).
    func revokeAll(of member: UUIDString) async throws
}

/// Session tokens in this process's memory; expired ones are dropped when the table has doubled since the last
/// sweep, so issuing stays amortised O(1).
public final class InMemorySessionStore: SessionStore {
    private struct State {
        var tokens: [String: (member: UUIDString, expiresAt: Int64)] = [:]
        var sweepAt = 1_024
    }

    private let state = Mutex(State())

    public init() {}

    public func issue(_ token: String, for member: UUIDString, expiresAt: Int64) {
        let now = UnixTime.nowMilliseconds()
        self.state.withLock { state in
            if state.tokens.count >= state.sweepAt {
                state.tokens = state.tokens.filter { $0.value.expiresAt > now }
                state.sweepAt = max(1_024, state.tokens.count * 2)
            }
            state.tokens[token] = (member, expiresAt)
        }
    }

    public func member(forToken token: String, now: Int64) -> UUIDString? {
        self.state.withLock { state in
            guard let session = state.tokens[token], session.expiresAt > now else { return nil }
            return session.member
        }
    }

    public func revokeAll(of member: UUIDString) {
        self.state.withLock { state in
            state.tokens = state.tokens.filter { $0.value.member != member }
        }
    }

    /// Tokens held now, expired ones included until the next sweep.
    public var count: Int { self.state.withLock { $0.tokens.count } }
}
