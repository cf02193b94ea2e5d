import CommuneCore
import CommuneProtocol
import HummingbirdWebSocket
import NIOWebSocket
import Logging

/// The call socket (`/ws/calls/`): a member who joined a call says `hello` with the call's secret, then carries
/// their signalling over it to the ``CallBackend`` (see docs/PROTOCOL.md, "Calls").
struct CallSocketRoute: Sendable {
    let community: Community
    let backend: any CallBackend
    let events: CallEvents
    let logger: Logger

    /// The largest frame a call socket takes (an SDP offer with its ICE candidates is a few KiB).
    static let maxFrameBytes = 64 << 10
    /// Refused frames in a row before the socket is closed.
    static let maxConsecutiveErrors = 10

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, admission: ConnectionAdmission) async {
        var socket: CallSocket?
        var session: (any CallSession)?
        var errors = 0
        await withTaskGroup(of: Void.self) { group in
            do {
                for try await message in inbound.messages(maxSize: Self.maxFrameBytes) {
                    let frame: (type: String, data: PayloadReader)
                    do throws(CommuneError) {
                        frame = try Self.parse(message)
                    } catch {
                        if let socket { socket.send("error", Self.errorData(error)) } else { try? await Self.refuse(outbound, error) }
                        errors += 1
                        if socket == nil || errors >= Self.maxConsecutiveErrors { break }
                        continue
                    }
                    guard let session else {
                        do throws(CommuneError) {
                            let opened = try await self.open(frame)
                            admission.loggedIn()
                            socket = opened
                            group.addTask { await Self.write(opened, to: outbound) }
                            session = try await self.backend.openSession(for: self.participant(opened.ticket), socket: opened)
                        } catch {
                            if let socket { socket.send("error", Self.errorData(error)); socket.close(.policyViolation, error.code.rawValue) } else {
                                try? await Self.refuse(outbound, error)
                            }
                            break
                        }
                        continue
                    }
                    do throws(CommuneError) {
                        try await session.receive(frame.type, frame.data)
                        errors = 0
                    } catch {
                        socket?.send("error", Self.errorData(error))
                        errors += 1
                        if errors >= Self.maxConsecutiveErrors {
                            socket?.close(.policyViolation, "too many errors")
                            break
                        }
                    }
                }
            } catch {
                self.logger.debug("Call socket reading ended: \(error)")
            }
            if let socket {
                await session?.closed()
                self.events.mediaChanged(socket.ticket, connected: false)
                socket.close(.normalClosure, nil)
            }
            await group.waitForAll()
        }
    }

    /// `hello {path, name, secret}`: the secret must be a current one, for the channel at that address.
    private func open(_ frame: (type: String, data: PayloadReader)) async throws(CommuneError) -> CallSocket {
        guard frame.type == "hello" else { throw .init(.unexpectedMessage, "The first frame on a call socket must be 'hello'.") }
        let address = ChannelAddress(path: try frame.data.string("path"), name: try frame.data.string("name"))
        let secret = try frame.data.string("secret")
        guard let participant = self.community.calls.participant(secret: secret),
            let node = self.community.interactable(at: address), node.id == participant.ticket.channel
        else {
            throw .init(.forbidden, "This call secret is not valid for '\(address)': join the call with join_call first.")
        }
        return CallSocket(ticket: participant.ticket)
    }

    private func participant(_ ticket: CallTicket) throws(CommuneError) -> CallParticipant {
        guard let participant = self.community.calls.participant(secret: ticket.secret) else {
            throw .init(.forbidden, "You are no longer in this call.")
        }
        return participant
    }

    private static func parse(_ message: WebSocketMessage) throws(CommuneError) -> (type: String, data: PayloadReader) {
        guard case .text(let text) = message else { throw .init(.badJSON, "Call socket frames are JSON text frames.") }
        let value: JSONValue
        do {
            value = try JSONValue.parse(text)
        } catch {
            throw .init(.badJSON, "The frame is not JSON: \(error).")
        }
        let frame = try PayloadReader(value, context: "")
        let type = try frame.string("type")
        return (type, try frame.object("data"))
    }

    private static func errorData(_ error: CommuneError) -> [String: JSONValue] {
        ["code": .string(error.code.rawValue), "message": .string(error.message)]
    }

    /// Answers a socket that never opened a session with `error`, then closes it (1008).
    private static func refuse(_ outbound: WebSocketOutboundWriter, _ error: CommuneError) async throws {
        try await outbound.write(.text(JSONValue.object(["type": "error", "data": .object(Self.errorData(error))]).jsonString))
        try await outbound.close(.policyViolation, reason: error.code.rawValue)
    }

    private static func write(_ socket: CallSocket, to outbound: WebSocketOutboundWriter) async {
        for await item in socket.outgoing {
            do {
                switch item {
                case .frame(let text): try await outbound.write(.text(text))
                case .close(let code, let reason):
                    try await outbound.close(code, reason: reason)
                    return
                }
            } catch {
                return
            }
        }
    }
}
