import Crypto
import Foundation
import Testing

@testable import CommuneProtocol

@Suite("Handshake crypto and message types")
struct HandshakeTests {
    @Test("the member derives the community's key and solves the challenge")
    func solve() throws {
        let community = Curve25519.KeyAgreement.PrivateKey()
        let member = Curve25519.KeyAgreement.PrivateKey()
        let serverKey = try ChallengeCipher.key(privateKey: community, peerPublicKey: member.publicKey)
        let (secret, sealed) = try ChallengeCipher.makeChallenge(key: serverKey)
        #expect(Data(base64Encoded: sealed)?.count == 12 + 32 + 16)
        let clientKey = try ChallengeCipher.key(privateKey: member, peerPublicKey: community.publicKey)
        let answer = try ChallengeCipher.solve(sealed: sealed, key: clientKey)
        #expect(ChallengeCipher.verify(answer: answer, secret: secret))
        // Each challenge's secret is 32 fresh random bytes: never repeated, and every byte value turns up.
        let secrets = try (0..<200).map { _ in try ChallengeCipher.makeChallenge(key: serverKey).secret }
        #expect(secrets.allSatisfy { $0.count == ChallengeCipher.secretByteCount })
        #expect(Set(secrets).count == secrets.count)
        #expect(Set(secrets.joined()).count == 256)
    }

    @Test("another key cannot solve it")
    func wrongKey() throws {
        let community = Curve25519.KeyAgreement.PrivateKey()
        let member = Curve25519.KeyAgreement.PrivateKey()
        let thief = Curve25519.KeyAgreement.PrivateKey()
        let serverKey = try ChallengeCipher.key(privateKey: community, peerPublicKey: member.publicKey)
        let (_, sealed) = try ChallengeCipher.makeChallenge(key: serverKey)
        let thiefKey = try ChallengeCipher.key(privateKey: thief, peerPublicKey: community.publicKey)
        #expect {
            try ChallengeCipher.solve(sealed: sealed, key: thiefKey)
        } throws: { error in
            (error as? CommuneError)?.code == .challengeFailed
        }
    }

    @Test("verify rejects wrong, short and non-base64 answers")
    func verify() {
        let secret = [UInt8](repeating: 7, count: 32)
        #expect(ChallengeCipher.verify(answer: Data(secret).base64EncodedString(), secret: secret))
        #expect(!ChallengeCipher.verify(answer: Data([UInt8](repeating: 8, count: 32)).base64EncodedString(), secret: secret))
        #expect(!ChallengeCipher.verify(answer: Data(secret.prefix(31)).base64EncodedString(), secret: secret))
        #expect(!ChallengeCipher.verify(answer: "%%%", secret: secret))
    }

    @Test("invite links carry address and code")
    func inviteLink() throws {
        let link = try #require(InviteLink("  http://127.0.0.1:1984/#invite=abc_DEF-123 "))
        #expect(link.baseURL == "http://127.0.0.1:1984")
        #expect(link.code == "abc_DEF-123")
        #expect(link.webSocketURL == "ws://127.0.0.1:1984/")
        #expect(InviteLink("https://chat.example.org/#invite=x")?.webSocketURL == "wss://chat.example.org/")
        #expect(InviteLink("ftp://x/#invite=a") == nil)
        #expect(InviteLink("http://x/#invite=a<b") == nil)
        #expect(InviteLink("http://x/") == nil)
    }

    @Test("UUIDs are validated and lower-cased")
    func uuid() {
        #expect(UUIDString("6F1C2C9E-0D6B-4E4E-9A43-8D2B1F7E5A10")?.value == "6f1c2c9e-0d6b-4e4e-9a43-8d2b1f7e5a10")
        #expect(UUIDString("6f1c2c9e0d6b4e4e9a438d2b1f7e5a10") == nil)
        #expect(UUIDString("6f1c2c9e-0d6b-4e4e-9a43-8d2b1f7e5a1g") == nil)
        #expect(UUIDString(UUIDString.random().value) != nil)
        #expect(UUIDString.random() != UUIDString.random())
        // Version 4, RFC 4122 variant, whatever the bits given.
        let made = UUIDString(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)
        #expect(made.value == "01234567-89ab-4def-bedc-ba9876543210")
        #expect(UUIDString(made.value) == made)
    }

    @Test("the interactable tree keeps the seed's shape and its order")
    func tree() throws {
        let nodes = [
            InteractableNode(
                name: "General", codec: "category", position: 0,
                children: [
                    InteractableNode(name: "General", codec: "text", position: 0),
                    InteractableNode(name: "VC-1", codec: "voice", position: 1, data: ["active_users": [:]]),
                ]
            ),
            InteractableNode(name: "Rules", codec: "text", position: 1),
        ]
        let json = InteractableNode.encodeTree(nodes)
        #expect(json["General"]?["data"]?["VC-1"]?["codec"] == "voice")
        #expect(json["Rules"]?["data"] == .object([:]))
        let decoded = try InteractableNode.decodeTree(try JSONValue.parse(json.jsonString))
        #expect(decoded == nodes)
    }
}
