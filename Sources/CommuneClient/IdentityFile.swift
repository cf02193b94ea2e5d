import CommuneProtocol
import Crypto
import Foundation

/// The identity file the CLI keeps (and the web client exports): the key, and the communities joined with it.
///
/// ```json
/// {"version": 1, "user_id": "…", "private_key": "<base64 raw 32 bytes>", "public_key": "<base64>",
///  "communities": [{"url": "http://127.0.0.1:1984", "username": "alice", "name": "Commune", "community_key": "…"}],
///  "home": "http://127.0.0.1:1984"}
/// ```
/// `home` (optional) is the base URL of the community that keeps the member's home: their list of communities,
/// sealed with their key (``HomeSeal``).
/// Written with mode 0600: whoever can read it can log in as its owner.
public struct IdentityFile: Codable, Sendable {
    public struct CommunityEntry: Codable, Sendable, Hashable {
        /// The community's base URL (`http://host:port`).
        public var url: String
        public var username: String
        public var name: String?
        /// The community's public key seen at join; later logins refuse a server with another key.
        public var communityKey: String?

        public init(url: String, username: String, name: String? = nil, communityKey: String? = nil) {
            self.url = url
            self.username = username
            self.name = name
            self.communityKey = communityKey
        }

        enum CodingKeys: String, CodingKey {
            case url, username, name
            case communityKey = "community_key"
        }
    }

    public var version: Int
    public var userID: String
    public var privateKey: String
    public var publicKey: String
    public var communities: [CommunityEntry]
    /// The base URL of the member's home (one of ``communities``), or `nil` when they keep none.
    public var home: String?

    enum CodingKeys: String, CodingKey {
        case version
        case userID = "user_id"
        case privateKey = "private_key"
        case publicKey = "public_key"
        case communities
        case home
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.version = try container.decodeIfPresent(Int.self, forKey: .version) ?? 1
        self.userID = try container.decode(String.self, forKey: .userID)
        self.privateKey = try container.decode(String.self, forKey: .privateKey)
        self.publicKey = try container.decodeIfPresent(String.self, forKey: .publicKey) ?? ""
        // A web client's export may carry only the key; the communities list is then empty.
        self.communities = try container.decodeIfPresent([CommunityEntry].self, forKey: .communities) ?? []
        self.home = try container.decodeIfPresent(String.self, forKey: .home).flatMap { $0.isEmpty ? nil : $0 }
    }

    public init(identity: Identity, communities: [CommunityEntry] = []) {
        self.version = 1
        self.userID = identity.userID.value
        self.privateKey = identity.privateKey.rawRepresentation.base64EncodedString()
        self.publicKey = identity.publicKey
        self.communities = communities
    }

    /// The identity this file holds.
    public func identity() throws -> Identity {
        guard let id = UUIDString(self.userID) else { throw IdentityFileError("user_id is not a UUID") }
        guard let bytes = Data(base64Encoded: self.privateKey), bytes.count == 32,
            let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: bytes)
        else { throw IdentityFileError("private_key is not a base64 raw 32-byte X25519 key") }
        return Identity(userID: id, privateKey: key)
    }

    /// The default location: `$COMMUNE_IDENTITY`, else `$XDG_CONFIG_HOME/commune/identity.json`, else
    /// `~/.config/commune/identity.json`.
    public static var defaultPath: String {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["COMMUNE_IDENTITY"], !path.isEmpty { return path }
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()) as NSString).appendingPathComponent(".config")
        return (config as NSString).appendingPathComponent("commune/identity.json")
    }

    public static func load(from path: String) throws -> IdentityFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        do {
            return try JSONDecoder().decode(IdentityFile.self, from: data)
        } catch {
            throw IdentityFileError("\(path) is not a Commune identity file: \(error)")
        }
    }

    /// Writes the file atomically, readable and writable by its owner only.
    public func save(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(self)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw IdentityFileError("cannot write \(temporary.path)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw IdentityFileError("cannot write \(url.path): \(reason)")
        }
    }

    /// The entry for `url`, or the most recently joined community when `url` is `nil`.
    public func community(_ url: String?) -> CommunityEntry? {
        guard let url else { return self.communities.last }
        let wanted = Self.normalized(url)
        return self.communities.last { Self.normalized($0.url) == wanted }
    }

    public static func normalized(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }
}

public struct IdentityFileError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
