import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Crypto
import Foundation
import Testing

/// Registration over the wire with keys that X25519 reads as something else than they look: small-order points
/// and keys with bit 255 flipped. Exact frames on a raw socket.
@Suite("Keys at registration, over the wire")
struct KeyRegistrationTests {
    func register(_ socket: RawWebSocket, id: String, key: [UInt8], invite: String, userID: UUIDString = .random()) async throws -> Envelope {
        let data = RegisterRequest(userID: userID, publicKey: Data(key).base64EncodedString(), invite: invite, username: "newcomer \(id)").data
        return try await socket.answer(Envelope(type: .register, id: id, data: data).jsonString)
    }

    func stored(_ server: TestServer) async throws -> String {
        let members = try await server.server.store.members().map { "\($0.id):\(Data($0.publicKey).base64EncodedString())" }.sorted()
        let invites = try await server.server.store.invites().map { "\($0.code):\($0.usesLeft)" }.sorted()
        return "\(members)|\(invites)"
    }

    @Test("every small-order key is refused with invalid_argument, the invite keeps its use")
    func smallOrder() async throws {
        let server = try await TestServer.start()
        let invite = try await server.invite()
        let before = try await self.stored(server)
        let encodings = Array(X25519Key.smallOrderEncodings.enumerated())
        // Ten malformed requests in a row close a socket: seven keys per socket.
        for start in stride(from: 0, to: encodings.count, by: 7) {
            let socket = try await server.rawSocket()
            for (index, key) in encodings[start..<min(start + 7, encodings.count)] {
                let reply = try await self.register(socket, id: "small-\(index)", key: key, invite: invite)
                #expect(reply.type == .error && reply.id == "small-\(index)" && reply.data["request_type"] == "register")
                #expect(CommuneError(envelope: reply) == .invalidArgument(
                    "public_key is a point of small order on Curve25519: its shared secret would be the same for every private key, so anyone could log in as you. Generate a new key pair."
                ))
            }
            try await socket.run { try $0.closeNormally() }
        }
        #expect(try await self.stored(server) == before)
        // The invite still works for a real key.
        let socket = try await server.rawSocket()
        let good = try await self.register(socket, id: "good", key: Array(Curve25519.KeyAgreement.PrivateKey().publicKey.rawRepresentation), invite: invite)
        #expect(good.type == .register && good.data["accepted"] == true)
        try await socket.run { try $0.closeNormally() }
        await server.stopAndRemove()
    }

    @Test("a key with bit 255 flipped neither registers a second account nor evades a ban, and cannot log in banned")
    func flippedBit() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner()
        let alice = try await server.member("alice")
        let mallory = try await server.member("mallory")
        func flipped(_ identity: Identity) -> [UInt8] {
            var key = Array(identity.privateKey.publicKey.rawRepresentation)
            key[31] ^= 0x80
            return key
        }
        let socket = try await server.rawSocket()

        let twice = try await self.register(socket, id: "twice", key: flipped(alice.identity), invite: try await server.invite())
        #expect(CommuneError(envelope: twice) == CommuneError(.alreadyRegistered, "This user id or public key is already a member of this community."))
        #expect(twice.id == "twice")

        try await owner.connection.remove(mallory.identity.userID, ban: true)
        let before = try await self.stored(server)
        let evading = try await self.register(socket, id: "evade", key: flipped(mallory.identity), invite: try await server.invite())
        #expect(CommuneError(envelope: evading) == CommuneError(.banned, "This identity is banned from this community."))
        #expect(evading.id == "evade")
        let after = try await self.stored(server)
        #expect(after.split(separator: "|")[0] == before.split(separator: "|")[0])
        // The banned private key has no account to log in to, under any user id.
        let again = try await server.connect()
        await #expect(throws: CommuneError.self) { try await again.login(mallory.identity) }
        await again.close()
        try await socket.run { try $0.closeNormally() }
        await server.stopAndRemove()
    }
}
