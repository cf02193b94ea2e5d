import CommuneCore
import CommuneProtocol
import Crypto
import Foundation
import Logging
import Testing

/// Registration refuses keys of small order and treats every spelling of a key as that key; login refuses a key
/// whose shared secret is all zeros. On the in-memory store, no socket.
@Suite("Member keys at registration and login")
struct MemberKeyTests {
    static let smallOrderMessage =
        "public_key is a point of small order on Curve25519: its shared secret would be the same for every private key, so anyone could log in as you. Generate a new key pair."

    func register(_ fixture: DomainFixture, key: [UInt8], name: String = "newcomer") async throws(CommuneError) -> Member {
        let invite: Invite
        do { invite = try await InviteIssuer.create(in: fixture.store) } catch { throw .internalError("\(error)") }
        return try await fixture.community.register(
            RegisterRequest(userID: .random(), publicKey: Data(key).base64EncodedString(), invite: invite.code, username: name)
        )
    }

    @Test("register refuses each small-order point in each encoding with invalid_argument and stores nothing", arguments: X25519Key.smallOrderEncodings)
    func smallOrderRefused(_ encoding: [UInt8]) async throws {
        let fixture = try await DomainFixture.make()
        let members = try await fixture.store.members().count
        await #expect(throws: CommuneError.invalidArgument(Self.smallOrderMessage)) {
            try await self.register(fixture, key: encoding)
        }
        #expect(try await fixture.store.members().count == members)
        #expect(try await fixture.store.invites().allSatisfy { $0.usesLeft == 1 })
    }

    @Test("a member stored with a small-order key cannot get a challenge: challenge_failed")
    func smallOrderLoginRefused() async throws {
        let store = InMemoryStore()
        let legacy = Member(id: .random(), username: "legacy", publicKey: [UInt8](repeating: 0, count: 32), group: "member", joinedAt: 1)
        _ = try await store.registerMember(legacy, inviteCode: nil, now: 1)
        var logger = Logger(label: "commune.domain-test")
        logger.logLevel = .critical
        let community = try await Community.open(store: store, logger: logger)
        #expect(throws: CommuneError(.challengeFailed, "This member's public key is of small order, so no challenge can prove who holds it; register a new identity.")) {
            try community.makeChallenge(for: legacy.id)
        }
    }

    @Test("bit 255 flipped: the same key neither registers twice nor escapes a ban, and is stored canonical")
    func flippedBit() async throws {
        let fixture = try await DomainFixture.make()
        var flipped = fixture.alice.publicKey
        flipped[31] ^= 0x80
        await #expect(throws: CommuneError(.alreadyRegistered, "This user id or public key is already a member of this community.")) {
            try await self.register(fixture, key: flipped)
        }
        _ = try await fixture.call(fixture.owner, "ban", ["user_id": .string(fixture.bob.id.value)])
        var bobFlipped = fixture.bob.publicKey
        bobFlipped[31] ^= 0x80
        await #expect(throws: CommuneError(.banned, "This identity is banned from this community.")) {
            try await self.register(fixture, key: bobFlipped)
        }
        let fresh = Array(Curve25519.KeyAgreement.PrivateKey().publicKey.rawRepresentation)
        var freshFlipped = fresh
        freshFlipped[31] |= 0x80
        #expect(try await self.register(fixture, key: freshFlipped).publicKey == fresh)
        #expect(try await fixture.store.members().first { $0.username == "newcomer" }?.publicKey == fresh)
    }
}
