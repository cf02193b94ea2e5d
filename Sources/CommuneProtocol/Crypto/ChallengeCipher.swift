import Crypto
import Foundation

/// The cryptography of Commune's login challenge.
///
/// The community and each member hold long-term X25519 key pairs. The challenge key is
/// `HKDF-SHA256(IKM: X25519(community, member), salt: empty, info: "challenge", 32 bytes)`; the server seals 32
/// random bytes with AES-256-GCM under it and sends `base64(nonce(12) ‖ ciphertext ‖ tag(16))`. Only the holder
/// of the member's private key can derive the same key, decrypt, and send the 32 bytes back. Browsers' WebCrypto
/// and swift-crypto both speak this construction.
public enum ChallengeCipher {
    /// The HKDF `info` string.
    public static let info = Data("challenge".utf8)
    /// How many random bytes a challenge carries.
    public static let secretByteCount = 32

    /// Derives the symmetric challenge key both sides compute.
    public static func key(
        privateKey: Curve25519.KeyAgreement.PrivateKey,
        peerPublicKey: Curve25519.KeyAgreement.PublicKey
    ) throws(CommuneError) -> SymmetricKey {
        let secret: SharedSecret
        do {
            secret = try privateKey.sharedSecretFromKeyAgreement(with: peerPublicKey)
        } catch {
            throw .invalidArgument("The public key cannot be used for key agreement.")
        }
        // A peer key of small order gives an all-zero secret whatever the private key: anyone could derive it.
        guard secret.withUnsafeBytes({ $0.contains { $0 != 0 } }) else {
            throw .invalidArgument("The public key is of small order: key agreement with it gives an all-zero shared secret.")
        }
        return secret.hkdfDerivedSymmetricKey(using: SHA256.self, salt: Data(), sharedInfo: self.info, outputByteCount: 32)
    }

    /// A new challenge: the secret the answer must equal, and the sealed text to send.
    public static func makeChallenge(key: SymmetricKey) throws(CommuneError) -> (secret: [UInt8], sealed: String) {
        // Eight bytes per draw (each draw is a `getrandom` call on Linux): four calls, not one per byte.
        var generator = SystemRandomNumberGenerator()
        var secret: [UInt8] = []
        secret.reserveCapacity(self.secretByteCount)
        while secret.count < self.secretByteCount {
            withUnsafeBytes(of: generator.next() as UInt64) { secret.append(contentsOf: $0.prefix(self.secretByteCount - secret.count)) }
        }
        do {
            let box = try AES.GCM.seal(secret, using: key)
            guard let combined = box.combined else { throw CommuneError.internalError("Sealing failed.") }
            return (secret, combined.base64EncodedString())
        } catch {
            throw .internalError("Could not seal the challenge.")
        }
    }

    /// Opens a sealed challenge and returns the answer to send in `challenge_response` (base64 of the secret).
    public static func solve(sealed: String, key: SymmetricKey) throws(CommuneError) -> String {
        guard let combined = Data(base64Encoded: sealed) else {
            throw .invalidArgument("The challenge is not base64.")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: combined)
            let secret = try AES.GCM.open(box, using: key)
            return secret.base64EncodedString()
        } catch {
            throw .init(.challengeFailed, "The challenge could not be decrypted with this identity's key.")
        }
    }

    /// Compares an answer with the expected secret in constant time.
    public static func verify(answer: String, secret: [UInt8]) -> Bool {
        guard let bytes = Data(base64Encoded: answer), bytes.count == secret.count else { return false }
        var difference: UInt8 = 0
        for (lhs, rhs) in zip(bytes, secret) { difference |= lhs ^ rhs }
        return difference == 0
    }
}

extension Curve25519.KeyAgreement.PublicKey {
    /// Reads a base64 raw 32-byte X25519 public key as sent in `register` and `challenge`.
    public init(base64 text: String) throws(CommuneError) {
        guard let bytes = Data(base64Encoded: text), bytes.count == 32 else {
            throw .invalidArgument("public_key must be the base64 of a raw 32-byte X25519 public key.")
        }
        do {
            try self.init(rawRepresentation: bytes)
        } catch {
            throw .invalidArgument("public_key is not a valid X25519 public key.")
        }
    }

    /// The base64 of the raw 32 bytes.
    public var base64: String { self.rawRepresentation.base64EncodedString() }
}
