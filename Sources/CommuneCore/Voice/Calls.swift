import CommuneProtocol
import Synchronization

/// The community's calls: who is in which voice channel, in what state, with which secret. In memory only: a
/// call does not outlive the server, and a member leaves it when the connection that joined closes.
///
/// A member is in at most one call, from one connection: joining another channel, or the same one from another
/// device, moves them (the previous connection is told `call_ended`).
public final class Calls: Sendable {
    /// Where media goes; `nil` when this server offers no voice at all.
    public var media: (any CallMedia)? { self.mediaBox.withLock { $0 } }
    private let mediaBox: Mutex<(any CallMedia)?>

    struct State {
        var byChannel: [Int64: [UUIDString: CallParticipant]] = [:]
        var channelOf: [UUIDString: Int64] = [:]
        var bySecret: [String: UUIDString] = [:]
    }

    private let state = Mutex(State())

    public init(media: (any CallMedia)?) {
        self.mediaBox = Mutex(media)
    }

    /// Gives the calls their media (the server's backend, made once the community it reports to exists).
    public func attach(_ media: any CallMedia) {
        self.mediaBox.withLock { $0 = media }
    }

    /// The members in the call of `channel`, by id.
    public func participants(in channel: Int64) -> [UUIDString: CallParticipant] {
        self.state.withLock { $0.byChannel[channel] ?? [:] }
    }

    /// The voice channels that have a call now.
    func channelsWithCalls() -> [Int64] {
        self.state.withLock { Array($0.byChannel.keys) }
    }

    /// The call `member` is in, if any.
    public func participant(_ member: UUIDString) -> CallParticipant? {
        self.state.withLock { state in
            state.channelOf[member].flatMap { state.byChannel[$0]?[member] }
        }
    }

    /// The participant holding `secret`, while they are in the call it was issued for.
    public func participant(secret: String) -> CallParticipant? {
        self.state.withLock { state in
            guard let member = state.bySecret[secret], let channel = state.channelOf[member],
                let participant = state.byChannel[channel]?[member], participant.ticket.secret == secret
            else { return nil }
            return participant
        }
    }

    /// A new admission of `member` to the call of `channel` from `connection`, with a fresh secret.
    func makeTicket(for member: UUIDString, channel: Int64, connection: ConnectionID) -> CallTicket {
        CallTicket(member: member, channel: channel, connection: connection, secret: RandomToken.make(length: 43))
    }

    /// Throws `call_full` when the call of `channel` has no room for `member` (who may already be in it).
    func checkRoom(for member: UUIDString, in channel: Int64, maxMembers: Int) throws(CommuneError) {
        try self.state.withLock { state throws(CommuneError) in try Self.checkRoom(state, for: member, in: channel, maxMembers: maxMembers) }
    }

    private static func checkRoom(_ state: State, for member: UUIDString, in channel: Int64, maxMembers: Int) throws(CommuneError) {
        let inCall = state.byChannel[channel] ?? [:]
        if inCall[member] == nil, inCall.count >= maxMembers {
            throw CommuneError(.callFull, "This call already has \(inCall.count) members, the most this server allows in one call.")
        }
    }

    /// Puts the ticket's member in its call. Returns the new participant and the participation it replaced
    /// (another call, or this one from another connection).
    func join(_ ticket: CallTicket, maxMembers: Int) throws(CommuneError) -> (joined: CallParticipant, replaced: CallParticipant?) {
        let joined = CallParticipant(ticket: ticket, joinedAt: UnixTime.nowMilliseconds())
        return try self.state.withLock { state throws(CommuneError) in
            try Self.checkRoom(state, for: ticket.member, in: ticket.channel, maxMembers: maxMembers)
            let replaced = Self.remove(ticket.member, from: &state)
            state.byChannel[ticket.channel, default: [:]][ticket.member] = joined
            state.channelOf[ticket.member] = ticket.channel
            state.bySecret[ticket.secret] = ticket.member
            return (joined, replaced)
        }
    }

    /// Takes `member` out of their call; `nil` if they were in none (or, with `connection`, joined from another).
    func leave(_ member: UUIDString, connection: ConnectionID? = nil) -> CallParticipant? {
        self.state.withLock { state in
            if let connection, let current = state.channelOf[member].flatMap({ state.byChannel[$0]?[member] }),
                current.ticket.connection != connection
            {
                return nil
            }
            return Self.remove(member, from: &state)
        }
    }

    /// Everyone in the call of `channel` leaves (the channel was removed).
    func endCall(in channel: Int64) -> [CallParticipant] {
        self.state.withLock { state in
            let participants = Array((state.byChannel[channel] ?? [:]).values)
            for participant in participants { _ = Self.remove(participant.member, from: &state) }
            return participants
        }
    }

    /// Changes `member`'s participation in place; `nil` if they are in no call (or, with `secret`, are in it under
    /// another secret: a call socket of an earlier join changes nothing).
    func update(_ member: UUIDString, secret: String? = nil, _ change: (inout CallParticipant) -> Void) -> CallParticipant? {
        self.state.withLock { state in
            guard let channel = state.channelOf[member], var participant = state.byChannel[channel]?[member] else { return nil }
            if let secret, participant.ticket.secret != secret { return nil }
            change(&participant)
            state.byChannel[channel]?[member] = participant
            return participant
        }
    }

    private static func remove(_ member: UUIDString, from state: inout State) -> CallParticipant? {
        guard let channel = state.channelOf.removeValue(forKey: member),
            let participant = state.byChannel[channel]?.removeValue(forKey: member)
        else { return nil }
        if state.byChannel[channel]?.isEmpty == true { state.byChannel[channel] = nil }
        state.bySecret[participant.ticket.secret] = nil
        return participant
    }
}
