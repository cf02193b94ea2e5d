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
        let socket = try RawWebSocket(port: self.ready.port)
        #expect(try await socket.run { try $0.readUpgradeResponse() } == "HTTP/1.1 101 Switching Protocols")
        #expect(try await socket.run { try $0.login(identity) }.type == .identificationResponse)
        return (socket, identity)
    }
}
