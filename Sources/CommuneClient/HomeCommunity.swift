import CommuneProtocol
import Foundation

/// One entry of the member's home, opened with their key: a community they keep in their list, or a folder's label.
///
/// The home's server holds it sealed (``HomeSeal``); this is what the client reads back. An entry whose fields do
/// not open is never one of these: it is a ``HomeList/Unreadable``.
public struct HomeCommunity: Sendable, Hashable {
    /// What `community_secret` holds: what the member needs to log in there from another device.
    public struct Secret: Sendable, Hashable, Codable {
        /// The community's public key pinned at join (base64).
        public var communityKey: String?
        /// The member's name there.
        public var username: String?

        public init(communityKey: String?, username: String?) {
            self.communityKey = communityKey
            self.username = username
        }

        enum CodingKeys: String, CodingKey {
            case communityKey = "community_key"
            case username
        }
    }

    /// Chosen by the client when the entry was added.
    public var id: UUIDString
    public var position: HomePosition
    /// The community's base URL (`http://host:port`); `""` for a folder's label.
    public var address: String
    /// The name shown.
    public var title: String
    public var secret: Secret?
    /// When it was added or last changed (server time, ISO-8601), for display.
    public var updatedAt: String

    public init(id: UUIDString, position: HomePosition, address: String, title: String, secret: Secret? = nil, updatedAt: String = "") {
        self.id = id
        self.position = position
        self.address = address
        self.title = title
        self.secret = secret
        self.updatedAt = updatedAt
    }

    /// Whether this entry names the folder at its position instead of being a community.
    public var isFolderLabel: Bool { self.address.isEmpty }

    /// The folder it is in: the first number of a position of two or more numbers; `nil` at the top level.
    public var folder: Int? { self.position.components.count >= 2 ? self.position.components[0] : nil }

    /// Opens an entry as the server sends it (`{id, community_address, community_title, community_secret?, position,
    /// updated_at}`).
    public init(opening value: JSONValue, with seal: HomeSeal) throws(HomeList.Unreadable) {
        let rawID = value["id"]?.stringValue ?? ""
        let rawPosition = value["position"]?.stringValue
        let position = rawPosition.flatMap(HomePosition.init)
        func unreadable(_ reason: String) -> HomeList.Unreadable { .init(id: rawID, position: rawPosition, reason: reason) }
        guard let id = UUIDString(rawID) else { throw unreadable("its id is not a UUID") }
        guard let position else { throw unreadable("its position is malformed") }
        func open(_ field: HomeSeal.Field) throws(HomeList.Unreadable) -> String? {
            guard let sealed = value[field.rawValue]?.stringValue else { return nil }
            do {
                return try seal.open(sealed, field: field, entryID: id.value)
            } catch {
                throw unreadable(error.description)
            }
        }
        guard let address = try open(.communityAddress) else { throw unreadable("community_address is missing") }
        guard let title = try open(.communityTitle) else { throw unreadable("community_title is missing") }
        var secret: Secret?
        if let text = try open(.communitySecret) {
            do {
                secret = try JSONDecoder().decode(Secret.self, from: Data(text.utf8))
            } catch {
                throw unreadable("community_secret is not a JSON object")
            }
        }
        self.init(id: id, position: position, address: address, title: title, secret: secret, updatedAt: value["updated_at"]?.stringValue ?? "")
    }

    /// The payload of `add_community`: every field sealed with a fresh nonce.
    func sealedPayload(with seal: HomeSeal) -> [String: JSONValue] {
        var payload = Self.sealed(address: self.address, title: self.title, secret: self.secret, of: self.id, with: seal)
        payload["id"] = .string(self.id.value)
        payload["position"] = .string(self.position.description)
        return payload
    }

    /// The given fields of entry `id`, sealed; a `secret` of `.some(nil)` is sent as `null` (cleared).
    static func sealed(address: String?, title: String?, secret: Secret??, of id: UUIDString, with seal: HomeSeal) -> [String: JSONValue] {
        var payload: [String: JSONValue] = [:]
        if let address { payload[HomeSeal.Field.communityAddress.rawValue] = .string(seal.seal(address, field: .communityAddress, entryID: id.value)) }
        if let title { payload[HomeSeal.Field.communityTitle.rawValue] = .string(seal.seal(title, field: .communityTitle, entryID: id.value)) }
        switch secret {
        case .none: break
        case .some(.none): payload[HomeSeal.Field.communitySecret.rawValue] = .null
        case .some(.some(let secret)):
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            // Encoding two optional strings cannot fail.
            let text = String(decoding: (try? encoder.encode(secret)) ?? Data("{}".utf8), as: UTF8.self)
            payload[HomeSeal.Field.communitySecret.rawValue] = .string(seal.seal(text, field: .communitySecret, entryID: id.value))
        }
        return payload
    }
}

/// The member's home as read with their key: the entries that opened, in the home's order, and those that did not.
public struct HomeList: Sendable, Hashable {
    /// An entry whose fields did not open with this identity's key: changed by someone without it (or written with
    /// another key). Not shown; reported, and it can still be moved or removed by its id.
    public struct Unreadable: Error, Sendable, Hashable, CustomStringConvertible {
        /// As the server sent it (a UUID unless the server sent garbage).
        public var id: String
        public var position: String?
        /// What failed, for logs.
        public var reason: String

        public init(id: String, position: String?, reason: String) {
            self.id = id
            self.position = position
            self.reason = reason
        }

        public var description: String { "entry \(self.id): \(self.reason)" }
    }

    /// Sorted by position, then id (as the server lists them).
    public var entries: [HomeCommunity]
    public var unreadable: [Unreadable]

    public init(entries: [HomeCommunity], unreadable: [Unreadable] = []) {
        self.entries = entries.sorted { ($0.position, $0.id) < ($1.position, $1.id) }
        self.unreadable = unreadable
    }

    /// Opens every entry of a `get_community` reply.
    public init(opening values: [JSONValue], with seal: HomeSeal) {
        var entries: [HomeCommunity] = []
        var unreadable: [Unreadable] = []
        for value in values {
            do {
                entries.append(try HomeCommunity(opening: value, with: seal))
            } catch {
                unreadable.append(error)
            }
        }
        self.init(entries: entries, unreadable: unreadable)
    }

    /// The communities (not the folder labels).
    public var communities: [HomeCommunity] { self.entries.filter { !$0.isFolderLabel } }

    /// The entry for the community at `address` (compared without trailing slashes).
    public func community(at address: String) -> HomeCommunity? {
        let wanted = IdentityFile.normalized(address)
        return self.communities.first { IdentityFile.normalized($0.address) == wanted }
    }

    /// The position after the last top-level number in use, where joining a community appends it: `"0"` in an empty
    /// home; `nil` when the home's last number is already the largest a position may hold.
    public var nextTopLevelPosition: HomePosition? {
        let numbers = self.entries.map { $0.position.components[0] } + self.unreadable.compactMap { $0.position.flatMap(HomePosition.init)?.components[0] }
        let next = (numbers.max() ?? -1) + 1
        return next <= HomePosition.maxComponent ? HomePosition([next]) : nil
    }

    /// What a client says about the entries that did not open, or `nil` when all did.
    public var unreadableNotice: String? {
        switch self.unreadable.count {
        case 0: nil
        case 1: "1 entry in your home could not be read — it was changed by someone without your key."
        case let count: "\(count) entries in your home could not be read — they were changed by someone without your key."
        }
    }
}
