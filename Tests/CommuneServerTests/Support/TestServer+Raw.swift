import CommuneClient
import CommuneProtocol
import CommuneServer
import Testing

extension TestServer {
    /// Registers a new member (on a client connection, then closed) and logs them in on a raw socket.
    func rawMember(_ name: String) async throws -> (socket: RawWebSocket, identity: Identity) {
        let identity = Identity.generate()
        let registration = try await self.connect()
        try await registration.register(identity, invite: try await self.invite(), username: name)
        await registration.close()
        let socket = try await self.rawSocket()
        #expect(try await socket.run { try $0.login(identity) }.type == .identificationResponse)
        return (socket, identity)
    }

    /// A raw socket, upgraded to a WebSocket, not logged in.
    func rawSocket(timeoutSeconds: Int = 10) async throws -> RawWebSocket {
        let socket = try RawWebSocket(port: self.ready.port, timeoutSeconds: timeoutSeconds)
        #expect(try await socket.run { try $0.readUpgradeResponse() } == "HTTP/1.1 101 Switching Protocols")
        return socket
    }
}

extension RawWebSocket {
    /// Sends `text` and returns the answer to it, skipping updates.
    func answer(_ text: String) async throws -> Envelope {
        try await self.run { socket in
            try socket.sendText(text)
            while true {
                let envelope = try socket.readEnvelope()
                if envelope.type != .update { return envelope }
            }
        }
    }
}
