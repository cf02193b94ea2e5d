import Crypto
import Foundation
import Testing

@testable import CommuneProtocol

/// The small-order list and canonical keys, checked against X25519 itself.
@Suite("X25519 keys: small order and canonical form")
struct X25519KeyTests {
    @Test("fourteen distinct encodings of five small-order points")
    func encodingsAreDistinct() {
        let encodings = X25519Key.smallOrderEncodings
        #expect(encodings.count == 14)
        #expect(Set(encodings).count == 14)
        #expect(encodings.contains(X25519Key.prime))
        for encoding in encodings {
            #expect(X25519Key.isSmallOrder(encoding))
            #expect(X25519Key.smallOrderPoints.contains(X25519Key.canonical(encoding)))
        }
    }

    @Test("X25519 with any private key gives an all-zero secret (or refuses) for every small-order encoding", arguments: X25519Key.smallOrderEncodings)
    func smallOrderGivesZeroSecret(_ encoding: [UInt8]) throws {
        let peer = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: encoding)
        for _ in 0..<4 {
            let secret = try? Curve25519.KeyAgreement.PrivateKey().sharedSecretFromKeyAgreement(with: peer)
            #expect(secret.map { $0.withUnsafeBytes { $0.allSatisfy { $0 == 0 } } } ?? true)
        }
        #expect(throws: CommuneError.self) {
            try ChallengeCipher.key(privateKey: Curve25519.KeyAgreement.PrivateKey(), peerPublicKey: peer)
        }
    }

    @Test("a real key with bit 255 set is the same key: same secret, same canonical form; real keys are not small order")
    func canonicalForm() throws {
        let community = Curve25519.KeyAgreement.PrivateKey()
        for _ in 0..<8 {
            let member = Curve25519.KeyAgreement.PrivateKey().publicKey
            let raw = Array(member.rawRepresentation)
            #expect(X25519Key.canonical(raw) == raw)
            #expect(!X25519Key.isSmallOrder(raw))
            var flipped = raw
            flipped[31] |= 0x80
            #expect(X25519Key.canonical(flipped) == raw)
            #expect(X25519Key.encodings(of: flipped) == [raw, flipped])
            let secret = try community.sharedSecretFromKeyAgreement(with: member)
            let flippedSecret = try community.sharedSecretFromKeyAgreement(with: Curve25519.KeyAgreement.PublicKey(rawRepresentation: flipped))
            #expect(secret == flippedSecret)
        }
        // u = p + 2 is u = 2: canonical reduces it, and X25519 agrees.
        let two = [UInt8(2)] + [UInt8](repeating: 0, count: 31)
        let twoPlusP = [UInt8(0xEF)] + [UInt8](repeating: 0xFF, count: 30) + [0x7F]
        #expect(X25519Key.canonical(twoPlusP) == two)
        #expect(X25519Key.encodings(of: two).count == 4)
        let secret = try community.sharedSecretFromKeyAgreement(with: Curve25519.KeyAgreement.PublicKey(rawRepresentation: two))
        let reduced = try community.sharedSecretFromKeyAgreement(with: Curve25519.KeyAgreement.PublicKey(rawRepresentation: twoPlusP))
        #expect(secret == reduced)
    }
}
