import CommuneCore
import CommuneProtocol
import HummingbirdWebSocket
import NIOWebSocket
import Synchronization

/// One call socket's sending side: frames are queued here and written in order by the socket's task.
final class CallSocket: Sendable {
    enum Outgoing: Sendable {
        case frame(String)
        case close(WebSocketErrorCode, String?)
    }

    let ticket: CallTicket
    private let continuation: AsyncStream<Outgoing>.Continuation
    let outgoing: AsyncStream<Outgoing>

    init(ticket: CallTicket) {
        self.ticket = ticket
        (self.outgoing, self.continuation) = AsyncStream.makeStream(of: Outgoing.self, bufferingPolicy: .bufferingNewest(512))
    }

    var member: UUIDString { self.ticket.member }

    /// Queues `{"type": type, "data": data}`.
    func send(_ type: String, _ data: [String: JSONValue] = [:]) {
        self.continuation.yield(.frame(JSONValue.object(["type": .string(type), "data": .object(data)]).jsonString))
    }

    /// Sends `ended {reason}` and closes normally.
    func end(reason: CallEndReason) {
        self.send("ended", ["reason": .string(reason.rawValue)])
        self.close(WebSocketErrorCode.normalClosure, nil)
    }

    func close(_ code: WebSocketErrorCode, _ reason: String?) {
        self.continuation.yield(.close(code, reason))
        self.continuation.finish()
    }
}

/// The open call sockets, by call secret: what a backend reaches to relay signalling or to end a member's call.
final class CallSockets: Sendable {
    private let sockets = Mutex<[String: CallSocket]>([:])

    /// Registers `socket`, replacing (and closing) an earlier one with the same secret.
    func add(_ socket: CallSocket) {
        let previous = self.sockets.withLock { $0.updateValue(socket, forKey: socket.ticket.secret) }
        previous?.close(.policyViolation, "replaced by a new call socket")
    }

    /// Unregisters `socket`; `false` if it was not registered (already ended, or replaced).
    @discardableResult
    func remove(_ socket: CallSocket) -> Bool {
        self.sockets.withLock { sockets in
            guard sockets[socket.ticket.secret] === socket else { return false }
            sockets[socket.ticket.secret] = nil
            return true
        }
    }

    func socket(secret: String) -> CallSocket? {
        self.sockets.withLock { $0[secret] }
    }

    /// The sockets of the call of `channel`.
    func sockets(inChannel channel: Int64) -> [CallSocket] {
        self.sockets.withLock { $0.values.filter { $0.ticket.channel == channel } }
    }

    /// Ends the socket of `ticket`, if it is open; returns it.
    @discardableResult
    func end(_ ticket: CallTicket, reason: CallEndReason) -> CallSocket? {
        let socket = self.sockets.withLock { $0.removeValue(forKey: ticket.secret) }
        socket?.end(reason: reason)
        return socket
    }
}
