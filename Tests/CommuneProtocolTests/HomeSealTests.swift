import Crypto
import Foundation
import Testing

@testable import CommuneProtocol

/// The home list's field encryption, against the vector the web client is held to as well.
@Suite("HomeSeal: a home entry's sealed fields")
struct HomeSealTests {
    /// `Tests/Fixtures/home-seal-vector.json`, made independently (Python's `cryptography`) and read by the web
    /// client's browser test too.
    struct Vector: Decodable {
        struct Field: Decodable {
            var field: String
            var plaintext: String
            var nonce_hex: String
            var aad: String
            var sealed: String
        }
        var private_key_hex: String
        var private_key_base64: String
        var public_key_base64: String
        var key_hex: String
        var entry_id: String
        var fields: [Field]
        var folder_label_address: Field

        static func load() throws -> Vector {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Fixtures/home-seal-vector.json")
            return try JSONDecoder().decode(Vector.self, from: Data(contentsOf: url))
        }
    }

    static func bytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    let entryID = "0b7c4a52-98d3-4c4e-8d0e-2f0a3f1b9c11"

    @Test("the shared vector: key, every field sealed with its nonce to the exact base64, and opened back")
    func vector() throws {
        let vector = try Vector.load()
        let privateKey = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: Self.bytes(vector.private_key_hex))
        #expect(privateKey.rawRepresentation.base64EncodedString() == vector.private_key_base64)
        #expect(privateKey.publicKey.base64 == vector.public_key_base64)
        let seal = HomeSeal(privateKey: privateKey)
        #expect(seal.key.withUnsafeBytes { Self.hex($0) } == vector.key_hex)
        #expect(vector.fields.map(\.field) == HomeSeal.Field.allCases.map(\.rawValue))
        for item in vector.fields + [vector.folder_label_address] {
            let field = try #require(HomeSeal.Field(rawValue: item.field))
            #expect(String(decoding: HomeSeal.additionalData(entryID: vector.entry_id, field: field), as: UTF8.self) == item.aad)
            let nonce = try AES.GCM.Nonce(data: Self.bytes(item.nonce_hex))
            #expect(seal.seal(item.plaintext, field: field, entryID: vector.entry_id, nonce: nonce) == item.sealed)
            #expect(try seal.open(item.sealed, field: field, entryID: vector.entry_id) == item.plaintext)
            // The id as the server stores it (lower case) is what is authenticated: an upper-case spelling opens too.
            #expect(try seal.open(item.sealed, field: field, entryID: vector.entry_id.uppercased()) == item.plaintext)
        }
    }

    @Test("round trip of every field, with a fresh nonce per seal", arguments: HomeSeal.Field.allCases)
    func roundTrip(_ field: HomeSeal.Field) throws {
        let seal = HomeSeal(privateKey: Curve25519.KeyAgreement.PrivateKey())
        for plaintext in ["", "http://127.0.0.1:1984", "Wörk \u{202E}txet\u{200B} 👩‍💻", String(repeating: "é", count: 1_500)] {
            let first = seal.seal(plaintext, field: field, entryID: self.entryID)
            let second = seal.seal(plaintext, field: field, entryID: self.entryID)
            #expect(first != second)
            #expect(Data(base64Encoded: first)?.count == 28 + plaintext.utf8.count)
            #expect(try seal.open(first, field: field, entryID: self.entryID) == plaintext)
            #expect(try seal.open(second, field: field, entryID: self.entryID) == plaintext)
        }
    }

    @Test("one changed byte anywhere (nonce, ciphertext, tag) is refused")
    func tampered() throws {
        let seal = HomeSeal(privateKey: Curve25519.KeyAgreement.PrivateKey())
        let sealed = seal.seal("http://10.0.0.7:1984", field: .communityAddress, entryID: self.entryID)
        let bytes = try #require(Data(base64Encoded: sealed))
        for index in bytes.indices {
            var changed = bytes
            changed[index] ^= 0x01
            #expect(throws: HomeSealError.authenticationFailed(.communityAddress)) {
                try seal.open(changed.base64EncodedString(), field: .communityAddress, entryID: self.entryID)
            }
        }
        // Cut off or lengthened: the tag no longer matches either.
        #expect(throws: HomeSealError.authenticationFailed(.communityAddress)) {
            try seal.open(bytes.dropLast().base64EncodedString(), field: .communityAddress, entryID: self.entryID)
        }
        #expect(throws: HomeSealError.authenticationFailed(.communityAddress)) {
            try seal.open((bytes + [0]).base64EncodedString(), field: .communityAddress, entryID: self.entryID)
        }
    }

    @Test("a field moved to another field name or to another entry does not open")
    func moved() throws {
        let seal = HomeSeal(privateKey: Curve25519.KeyAgreement.PrivateKey())
        let title = seal.seal("Work", field: .communityTitle, entryID: self.entryID)
        #expect(throws: HomeSealError.authenticationFailed(.communityAddress)) {
            try seal.open(title, field: .communityAddress, entryID: self.entryID)
        }
        #expect(throws: HomeSealError.authenticationFailed(.communitySecret)) {
            try seal.open(title, field: .communitySecret, entryID: self.entryID)
        }
        #expect(throws: HomeSealError.authenticationFailed(.communityTitle)) {
            try seal.open(title, field: .communityTitle, entryID: UUIDString.random().value)
        }
    }

    @Test("another member's key does not open it")
    func wrongKey() throws {
        let alice = HomeSeal(privateKey: Curve25519.KeyAgreement.PrivateKey())
        let mallory = HomeSeal(privateKey: Curve25519.KeyAgreement.PrivateKey())
        let sealed = alice.seal("Work", field: .communityTitle, entryID: self.entryID)
        #expect(throws: HomeSealError.authenticationFailed(.communityTitle)) {
            try mallory.open(sealed, field: .communityTitle, entryID: self.entryID)
        }
        // Nor does the key derived from the public key instead of the private one.
        let fromPublic = HomeSeal(privateKeyBytes: Curve25519.KeyAgreement.PrivateKey().publicKey.rawRepresentation)
        #expect(throws: HomeSealError.authenticationFailed(.communityTitle)) {
            try fromPublic.open(sealed, field: .communityTitle, entryID: self.entryID)
        }
    }

    @Test("bad base64 and values shorter than nonce and tag are refused before decrypting")
    func malformed() throws {
        let seal = HomeSeal(privateKey: Curve25519.KeyAgreement.PrivateKey())
        for text in ["not base64!", "AAAA=AAA", "ÄÖÜ", "AAECAwQFBgcICQoL DYt1"] {
            #expect(throws: HomeSealError.notBase64(.communityTitle)) {
                try seal.open(text, field: .communityTitle, entryID: self.entryID)
            }
        }
        for count in [0, 1, 12, 27] {
            #expect(throws: HomeSealError.tooShort(.communityTitle)) {
                try seal.open(Data(repeating: 7, count: count).base64EncodedString(), field: .communityTitle, entryID: self.entryID)
            }
        }
        // Exactly a nonce and a tag is well-formed (an empty plaintext) but must still authenticate.
        #expect(throws: HomeSealError.authenticationFailed(.communityTitle)) {
            try seal.open(Data(repeating: 7, count: 28).base64EncodedString(), field: .communityTitle, entryID: self.entryID)
        }
    }

    @Test("a value sealed with the key but holding bytes that are not UTF-8 is refused")
    func notUTF8() throws {
        let seal = HomeSeal(privateKey: Curve25519.KeyAgreement.PrivateKey())
        let box = try AES.GCM.seal(
            [0xFF, 0xFE, 0x41], using: seal.key, authenticating: HomeSeal.additionalData(entryID: self.entryID, field: .communityTitle)
        )
        let sealed = try #require(box.combined).base64EncodedString()
        #expect(throws: HomeSealError.notUTF8(.communityTitle)) {
            try seal.open(sealed, field: .communityTitle, entryID: self.entryID)
        }
    }
}
