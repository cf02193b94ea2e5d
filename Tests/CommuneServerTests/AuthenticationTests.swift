import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Crypto
import Foundation
import Testing

@Suite("Registration and challenge login")
struct AuthenticationTests {
    func registerError(_ server: TestServer, invite: String, identity: Identity = .generate(), name: String = "eve") async throws -> CommuneError {
        let connection = try await server.connect()
        defer { Task { await connection.close() } }
        do {
            try await connection.register(identity, invite: invite, username: name)
            Issue.record("registration with \(invite) succeeded")
            return CommuneError(.internalError, "succeeded")
        } catch let error as CommuneError {
            return error
        }
    }

    @Test("unknown, used-up and expired invites are refused and keep their uses")
    func invites() async throws {
        let server = try await TestServer.start()
        #expect(try await self.registerError(server, invite: "nonexistent") == CommuneError(.inviteInvalid, "This invite is not known here."))

        let single = try await server.invite(uses: 1)
        let first = try await server.connect()
        try await first.register(.generate(), invite: single, username: "first")
        #expect(try await self.registerError(server, invite: single) == CommuneError(.inviteInvalid, "This invite has been used up."))

        let expiring = try await server.invite(uses: 5, lifetimeMilliseconds: 1)
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await self.registerError(server, invite: expiring) == CommuneError(.inviteInvalid, "This invite has expired."))

        let invites = Dictionary(uniqueKeysWithValues: try await server.server.store.invites().map { ($0.code, $0.usesLeft) })
        #expect(invites[single] == 0)
        #expect(invites[expiring] == 5)
        #expect(try await server.server.store.members().map(\.username).filter { $0 != "first" }.isEmpty)
        await server.stopAndRemove()
    }

    @Test("bad registrations get invalid_argument or already_registered and change nothing")
    func badRegistrations() async throws {
        let server = try await TestServer.start()
        let invite = try await server.invite(uses: 10)
        let connection = try await server.connect()
        let identity = Identity.generate()
        try await connection.register(identity, invite: invite, username: "alice")

        #expect(try await self.registerError(server, invite: invite, identity: identity, name: "again").code == .alreadyRegistered)
        let sameKey = Identity(userID: .random(), privateKey: identity.privateKey)
        #expect(try await self.registerError(server, invite: invite, identity: sameKey, name: "again").code == .alreadyRegistered)
        #expect(try await self.registerError(server, invite: invite, name: "   ") == CommuneError.invalidArgument("The username must not be empty."))
        #expect(try await self.registerError(server, invite: invite, name: String(repeating: "n", count: 33)).code == .invalidArgument)
        #expect(try await self.registerError(server, invite: invite, name: "bell\u{7}").code == .invalidArgument)

        let raw = try await server.connect()
        await #expect(throws: CommuneError.invalidArgument("data.user_id must be a UUID like 6f1c2c9e-0d6b-4e4e-9a43-8d2b1f7e5a10.")) {
            try await raw.request(Envelope(type: .register, data: ["user_id": "x", "public_key": "AAAA", "invite": .string(invite), "username": "z"]))
        }
        await #expect(throws: CommuneError.invalidArgument("public_key must be the base64 of a raw 32-byte X25519 public key.")) {
            try await raw.request(
                Envelope(type: .register, data: ["user_id": .string(UUIDString.random().value), "public_key": "AAAA", "invite": .string(invite), "username": "z"])
            )
        }
        #expect(try await server.server.store.members().map(\.username) == ["alice"])
        #expect(try await server.server.store.invites().first { $0.code == invite }?.usesLeft == 9)
        await server.stopAndRemove()
    }

    @Test("the wrong key cannot log in, and the socket is closed")
    func wrongKey() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let thief = Identity(userID: alice.identity.userID, privateKey: Curve25519.KeyAgreement.PrivateKey())
        let connection = try await server.connect()
        let events = EventReader(connection)
        // The thief cannot decrypt, so it guesses an answer.
        let challenge = try await connection.request(Envelope(type: .identification, data: IdentificationRequest(userID: thief.userID).data))
        #expect(challenge.type == .challenge)
        await #expect(throws: CommuneError(.challengeFailed, "The challenge answer is wrong.")) {
            try await connection.request(Envelope(type: .challengeResponse, data: ["challenge": .string(Data(count: 32).base64EncodedString())]))
        }
        try await events.waitForClose()
        #expect(connection.closeError?.closeCode == 1008)
        // Logging in with the real key still works.
        let again = try await server.connect()
        #expect(try await again.login(alice.identity).accepted)
        await server.stopAndRemove()
    }

    @Test("a replayed challenge answer is refused")
    func replay() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        // Record a real answer on one connection…
        let first = try await server.connect()
        let reply = try await first.request(Envelope(type: .identification, data: IdentificationRequest(userID: alice.identity.userID).data))
        let challenge = try ChallengeMessage(data: reply.data)
        let key = try ChallengeCipher.key(
            privateKey: alice.identity.privateKey, peerPublicKey: try Curve25519.KeyAgreement.PublicKey(base64: challenge.publicKey)
        )
        let answer = try ChallengeCipher.solve(sealed: challenge.challenge, key: key)
        _ = try await first.request(Envelope(type: .challengeResponse, data: ChallengeResponse(challenge: answer).data))

        // …and replay it on another, after asking for a fresh challenge there.
        let second = try await server.connect()
        _ = try await second.request(Envelope(type: .identification, data: IdentificationRequest(userID: alice.identity.userID).data))
        await #expect(throws: CommuneError(.challengeFailed, "The challenge answer is wrong.")) {
            try await second.request(Envelope(type: .challengeResponse, data: ChallengeResponse(challenge: answer).data))
        }
        // Replaying on the first connection, now logged in, is refused too.
        await #expect(throws: CommuneError(.unexpectedMessage, "This connection is already logged in.")) {
            try await first.request(Envelope(type: .challengeResponse, data: ChallengeResponse(challenge: answer).data))
        }
        await server.stopAndRemove()
    }

    @Test("a late answer is refused")
    func expiredChallenge() async throws {
        let server = try await TestServer.start { $0.community.challengeLifetimeMilliseconds = 0 }
        let connection = try await server.connect()
        let identity = Identity.generate()
        try await connection.register(identity, invite: try await server.invite(), username: "slow")
        try await Task.sleep(for: .milliseconds(5))
        do {
            _ = try await connection.login(identity)
            Issue.record("a late answer logged in")
        } catch let error as CommuneError {
            #expect(error.code == .challengeFailed)
        }
        await server.stopAndRemove()
    }

    @Test("identification for a stranger gets unknown_user")
    func unknownUser() async throws {
        let server = try await TestServer.start()
        let connection = try await server.connect()
        do {
            _ = try await connection.login(.generate())
            Issue.record("a stranger logged in")
        } catch let error as CommuneError {
            #expect(error.code == .unknownUser)
        }
        await server.stopAndRemove()
    }

    @Test("a client that pinned the community key refuses another server")
    func pinnedKey() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let connection = try await server.connect()
        await #expect(throws: CommuneClientError.communityKeyMismatch) {
            try await connection.login(alice.identity, communityKey: Curve25519.KeyAgreement.PrivateKey().publicKey.base64)
        }
        await server.stopAndRemove()
    }
}
