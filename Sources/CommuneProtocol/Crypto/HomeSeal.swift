import Crypto
import Foundation

/// The encryption of a member's home list: every field about a community is sealed on the client, so the home's
/// server stores only opaque strings and the positions.
///
/// `key = HKDF-SHA256(IKM: the member's raw 32-byte X25519 private key, salt: empty, info: "commune home v1",
/// 32 bytes)`, an AES-256-GCM key that never leaves the client. Each field is sealed on its own with a fresh random
/// 12-byte nonce and the additional data `"commune-home:" + id + ":" + field` (the entry's id in lower case, as the
/// server stores it), so a sealed field moved to another field or another entry no longer opens. A sealed field is
/// `base64(nonce(12) ‖ ciphertext ‖ tag(16))`. The web client does the same with WebCrypto;
/// both are held to `Tests/Fixtures/home-seal-vector.json`.
public struct HomeSeal: Sendable {
    /// The fields of a home entry that are sealed, by their wire names.
    public enum Field: String, Sendable, CaseIterable {
        case communityAddress = "community_address"
        case communityTitle = "community_title"
        case communitySecret = "community_secret"
    }

    /// The HKDF `info` string.
    public static let info = Data("commune home v1".utf8)
    /// Nonce and tag: the shortest sealed field (an empty plaintext) is this many bytes.
    public static let minimumSealedByteCount = 12 + 16

    /// The AES-256-GCM key.
    public let key: SymmetricKey

    /// The key of the member holding `privateKey`.
    public init(privateKey: Curve25519.KeyAgreement.PrivateKey) {
        self.init(privateKeyBytes: privateKey.rawRepresentation)
    }

    /// The key derived from a raw 32-byte X25519 private key.
    public init(privateKeyBytes: some ContiguousBytes) {
        self.key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: privateKeyBytes), salt: Data(), info: Self.info, outputByteCount: 32
        )
    }

    /// The additional authenticated data binding a sealed value to its entry and field.
    public static func additionalData(entryID: String, field: Field) -> Data {
        Data("commune-home:\(entryID.lowercased()):\(field.rawValue)".utf8)
    }

    /// Seals `plaintext` as the `field` of entry `entryID`, with a fresh random nonce unless one is given (tests).
    public func seal(_ plaintext: String, field: Field, entryID: String, nonce: AES.GCM.Nonce = AES.GCM.Nonce()) -> String {
        do {
            let box = try AES.GCM.seal(
                Data(plaintext.utf8), using: self.key, nonce: nonce,
                authenticating: Self.additionalData(entryID: entryID, field: field)
            )
            // A 12-byte nonce always gives the combined form.
            return box.combined!.base64EncodedString()
        } catch {
            // AES-GCM with a 32-byte key and a 12-byte nonce cannot fail for any plaintext a field can hold.
            preconditionFailure("AES.GCM.seal failed: \(error)")
        }
    }

    /// Opens the `field` of entry `entryID`; throws when the value was not sealed there with this key.
    public func open(_ sealed: String, field: Field, entryID: String) throws(HomeSealError) -> String {
        guard let combined = Data(base64Encoded: sealed) else { throw .notBase64(field) }
        guard combined.count >= Self.minimumSealedByteCount else { throw .tooShort(field) }
        let plaintext: Data
        do {
            let box = try AES.GCM.SealedBox(combined: combined)
            plaintext = try AES.GCM.open(box, using: self.key, authenticating: Self.additionalData(entryID: entryID, field: field))
        } catch {
            throw .authenticationFailed(field)
        }
        guard let text = String(validating: plaintext, as: UTF8.self) else { throw .notUTF8(field) }
        return text
    }
}

/// Why a sealed home field did not open: the entry was changed by someone without the member's key (or written
/// with another key). Clients do not show such an entry; they report it.
public struct HomeSealError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Reason: Hashable, Sendable {
        case notBase64, tooShort, authenticationFailed, notUTF8
    }

    private let reason: Reason
    /// The field that did not open.
    public let field: HomeSeal.Field

    private init(_ reason: Reason, _ field: HomeSeal.Field) {
        self.reason = reason
        self.field = field
    }

    /// The value is not standard base64.
    public static func notBase64(_ field: HomeSeal.Field) -> HomeSealError { .init(.notBase64, field) }
    /// The value is shorter than a nonce and a tag.
    public static func tooShort(_ field: HomeSeal.Field) -> HomeSealError { .init(.tooShort, field) }
    /// The tag does not match: another key, another entry or field, or changed bytes.
    public static func authenticationFailed(_ field: HomeSeal.Field) -> HomeSealError { .init(.authenticationFailed, field) }
    /// The plaintext is not UTF-8 (only a writer with the key could make that).
    public static func notUTF8(_ field: HomeSeal.Field) -> HomeSealError { .init(.notUTF8, field) }

    public var description: String {
        switch self.reason {
        case .notBase64: "\(self.field.rawValue) is not base64"
        case .tooShort: "\(self.field.rawValue) is too short to be sealed"
        case .authenticationFailed: "\(self.field.rawValue) does not open with this identity's key (changed, moved or sealed with another key)"
        case .notUTF8: "\(self.field.rawValue) is not UTF-8 text"
        }
    }
}
