import CommuneProtocol
import Crypto
import Foundation

/// Members' identities kept from one run to the next (`--identities FILE`), so that a second run measures what a
/// community sees after a restart: a crowd of members who are already registered logging in again.
///
/// The file holds one member per line, `USER_ID BASE64_PRIVATE_KEY` (raw X25519 keys, for benchmark communities
/// only; written with mode 0600). A run whose file does not exist yet makes fresh identities, registers them and
/// writes the file once every member has logged in; a run whose file exists logs its members in without
/// registering (``returning``).
struct BenchIdentities: Sendable {
    struct Identity: Sendable {
        let userID: UUIDString
        let privateKey: Curve25519.KeyAgreement.PrivateKey
    }

    let members: [Identity]
    /// Read from an existing file: the members are registered already and only log in.
    let returning: Bool

    /// Reads `path` (which must hold at least `count` members) or, when it does not exist, makes `count` new ones.
    static func load(path: String, count: Int) throws -> BenchIdentities {
        guard FileManager.default.fileExists(atPath: path) else {
            let members = (0..<count).map { _ in Identity(userID: .random(), privateKey: Curve25519.KeyAgreement.PrivateKey()) }
            return BenchIdentities(members: members, returning: false)
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var members: [Identity] = []
        for (number, line) in text.split(separator: "\n").enumerated() {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let userID = UUIDString(String(fields[0])), let key = Data(base64Encoded: String(fields[1])),
                let privateKey = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: key)
            else {
                throw BenchIdentitiesError("\(path), line \(number + 1): not USER_ID BASE64_PRIVATE_KEY")
            }
            members.append(Identity(userID: userID, privateKey: privateKey))
        }
        guard members.count >= count else {
            throw BenchIdentitiesError("\(path) holds \(members.count) members, fewer than --clients \(count)")
        }
        return BenchIdentities(members: members, returning: true)
    }

    /// Writes the members to `path`, readable by its owner only.
    func save(path: String) throws {
        let text = self.members.map { "\($0.userID.value) \($0.privateKey.rawRepresentation.base64EncodedString())\n" }.joined()
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw BenchIdentitiesError("could not write \(path)")
        }
    }
}

struct BenchIdentitiesError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
