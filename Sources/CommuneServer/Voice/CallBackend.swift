import CommuneCore
import CommuneProtocol

/// The server's side of voice: the ``CallMedia`` the community asks to admit and dismiss members, and the sessions
/// of the call sockets (`/ws/calls/`) that carry each member's signalling. ``MeshCalls`` relays signalling
/// between browsers; the SFU backend drives Janus.
protocol CallBackend: CallMedia {
    /// A call socket said `hello` for `participant`: starts its session. Throws to refuse it (the socket gets the
    /// error and closes).
    func openSession(for participant: CallParticipant, socket: CallSocket) async throws(CommuneError) -> any CallSession
}

/// One call socket's signalling, as the backend handles it.
protocol CallSession: Sendable {
    /// A frame after `hello`: `type` and its `data` object. Throws to answer it with `error`.
    func receive(_ type: String, _ data: PayloadReader) async throws(CommuneError)
    /// The socket closed (the member may still be in the call).
    func closed() async
}

/// What a backend tells the rest of the server about calls: pushes updates (talking, media up or down) to the
/// community's connections.
struct CallEvents: Sendable {
    let community: Community
    let publish: @Sendable ([Update]) -> Void

    /// The member's media in the call connected or dropped (``Community/callMediaChanged(member:secret:connected:)``).
    func mediaChanged(_ ticket: CallTicket, connected: Bool) {
        self.publish(self.community.callMediaChanged(member: ticket.member, secret: ticket.secret, connected: connected))
    }

    /// The SFU heard the member start or stop talking.
    func talking(_ member: UUIDString, _ talking: Bool) {
        self.publish(self.community.callTalking(member: member, talking: talking))
    }
}
