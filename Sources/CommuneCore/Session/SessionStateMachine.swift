import CommuneProtocol

/// The life of one client connection: `awaitingIdentification → challenged → authenticated → closed`.
///
/// Pure state, no I/O: the server's connection handler feeds it what arrived and does what it answers. An illegal
/// move is a ``CommuneError`` for the client, never a crash.
public struct SessionStateMachine: Sendable {
    public enum State: Sendable, Hashable {
        case awaitingIdentification
        case challenged(member: Member, secret: [UInt8], expiresAt: Int64)
        case authenticated(Member)
        case closed
    }

    public private(set) var state: State = .awaitingIdentification

    public init() {}

    public var member: Member? {
        if case .authenticated(let member) = self.state { return member }
        return nil
    }

    public var isAuthenticated: Bool { self.member != nil }

    /// `register` is allowed until the connection logs in.
    public func checkCanRegister() throws(CommuneError) {
        switch self.state {
        case .awaitingIdentification, .challenged: return
        case .authenticated: throw .init(.unexpectedMessage, "This connection is already logged in.")
        case .closed: throw .init(.unexpectedMessage, "This connection is closing.")
        }
    }

    /// An `identification` was answered with a challenge; a newer one replaces a pending one.
    public mutating func challenged(member: Member, secret: [UInt8], expiresAt: Int64) throws(CommuneError) {
        switch self.state {
        case .awaitingIdentification, .challenged:
            self.state = .challenged(member: member, secret: secret, expiresAt: expiresAt)
        case .authenticated: throw .init(.unexpectedMessage, "This connection is already logged in.")
        case .closed: throw .init(.unexpectedMessage, "This connection is closing.")
        }
    }

    /// Checks a `challenge_response`. A wrong or late answer closes the session; either way the challenge is spent.
    public mutating func answered(_ answer: String, now: Int64) throws(CommuneError) -> Member {
        switch self.state {
        case .challenged(let member, let secret, let expiresAt):
            guard now <= expiresAt else {
                self.state = .closed
                throw .init(.challengeFailed, "The challenge expired; send identification again on a new connection.")
            }
            guard ChallengeCipher.verify(answer: answer, secret: secret) else {
                self.state = .closed
                throw .init(.challengeFailed, "The challenge answer is wrong.")
            }
            self.state = .authenticated(member)
            return member
        case .awaitingIdentification:
            throw .init(.unexpectedMessage, "There is no pending challenge; send identification first.")
        case .authenticated:
            throw .init(.unexpectedMessage, "This connection is already logged in.")
        case .closed:
            throw .init(.unexpectedMessage, "This connection is closing.")
        }
    }

    /// The logged-in member, for requests that need one.
    public func requireMember() throws(CommuneError) -> Member {
        guard let member = self.member else {
            throw .init(.notAuthenticated, "Log in first: send identification, then challenge_response.")
        }
        return member
    }

    public mutating func close() {
        self.state = .closed
    }
}
