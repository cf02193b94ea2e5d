import CommuneCore
import CommuneProtocol

/// Calls without an SFU: members' browsers connect to each other, and the server relays their signalling
/// (`signal {to, payload}` → `signal {from, payload}`, seed 002's `video` relay) between call sockets of the same
/// call. Each member uploads their audio once per other member, so calls are kept small (``maxMembersPerCall``).
/// Server mute cannot be enforced here: the listeners' clients apply it.
struct MeshCalls: CallBackend {
    let sockets: CallSockets
    let events: CallEvents
    let ice: ICEProvider?
    let maxMembersPerCall: Int

    var mode: CallMode { .mesh }
    var isAvailable: Bool { true }

    func iceConfiguration(for member: UUIDString) -> ICEConfiguration {
        self.ice?.configuration(for: member) ?? ICEConfiguration(servers: [])
    }

    func admit(_ ticket: CallTicket, serverMuted: Bool) async throws(CommuneError) {}

    func dismiss(_ ticket: CallTicket, reason: CallEndReason) async {
        guard let socket = self.sockets.end(ticket, reason: reason) else { return }
        MeshSession.announceLeaving(socket, among: self.sockets)
    }

    func setServerMuted(_ muted: Bool, for ticket: CallTicket) async {}

    func openSession(for participant: CallParticipant, socket: CallSocket) async throws(CommuneError) -> any CallSession {
        let others = self.sockets.sockets(inChannel: participant.ticket.channel).filter { $0.member != participant.member }
        self.sockets.add(socket)
        socket.send(
            "ready", ["mode": .string(CallMode.mesh.rawValue), "user_id": .string(participant.member.value), "peers": .array(others.map { .string($0.member.value) })]
        )
        for other in others { other.send("peer_joined", ["user_id": .string(participant.member.value)]) }
        self.events.mediaChanged(participant.ticket, connected: true)
        return MeshSession(socket: socket, sockets: self.sockets)
    }
}

/// One member's call socket in a mesh call.
struct MeshSession: CallSession {
    let socket: CallSocket
    let sockets: CallSockets

    func receive(_ type: String, _ data: PayloadReader) async throws(CommuneError) {
        guard type == "signal" else {
            throw .invalidArgument("A mesh call socket takes only 'signal' frames, not '\(type)'.")
        }
        let to = try data.uuid("to")
        guard let payload = data.object["payload"], case .object = payload else {
            throw .invalidArgument("data.payload is required (an object).")
        }
        let peer = self.sockets.sockets(inChannel: self.socket.ticket.channel).first { $0.member == to && $0.member != self.socket.member }
        guard let peer else { throw .notFound("Member \(to) is not connected to this call.") }
        peer.send("signal", ["from": .string(self.socket.member.value), "payload": payload])
    }

    func closed() async {
        // A socket the call ended was announced then.
        guard self.sockets.remove(self.socket) else { return }
        Self.announceLeaving(self.socket, among: self.sockets)
    }

    /// Tells the other sockets of the call that `socket`'s member is gone (`peer_left`).
    static func announceLeaving(_ socket: CallSocket, among sockets: CallSockets) {
        for other in sockets.sockets(inChannel: socket.ticket.channel) where other.member != socket.member {
            other.send("peer_left", ["user_id": .string(socket.member.value)])
        }
    }
}
