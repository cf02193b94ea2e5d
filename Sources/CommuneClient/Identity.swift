import CommuneProtocol
import Crypto
import Foundation

/// A member's identity: a UUID and a long-term X25519 key pair. The private key never leaves the device.
public struct Identity: Sendable {
    public var userID: UUIDString
    public var privateKey: Curve25519.KeyAgreement.PrivateKey

    public init(userID: UUIDString, privateKey: Curve25519.KeyAgreement.PrivateKey) {
        self.userID = userID
        self.privateKey = privateKey
    }

    /// A new random identity.
    public static func generate() -> Identity {
        Identity(userID: .random(), privateKey: Curve25519.KeyAgreement.PrivateKey())
    }

    /// Base64 of the raw 32-byte public key, as `register` sends it.
    public var publicKey: String { self.privateKey.publicKey.base64 }
}
