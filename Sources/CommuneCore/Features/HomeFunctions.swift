import CommuneProtocol
import Foundation
import Logging

/// The member's home (seeds 000/001's Iota): the list of communities they keep, on every device. `add_community`,
/// `get_communities`, `update_community` and `remove_community` work on the logged-in member's own list only; each
/// change reaches the member's other connections as an update of the same result.
///
/// Everything about a community is sealed by the client (``HomeEntry``): the server checks only that each sealed field
/// is standard base64 of at least 28 bytes (nonce 12 and tag 16) within 4,096 characters, and keeps it as given.
/// `commune serve --homes off` (``CommunityConfiguration/homes``) answers every one with `unknown_function`. The wire
/// names are CommuneProtocol's `HomeFunction`, which the clients share.
public struct HomeFunctions: Capability {
    /// The sealed fields, by their wire names.
    static let addressField = "community_address"
    static let titleField = "community_title"
    static let secretField = "community_secret"
    /// The longest sealed field, in characters of base64.
    public static let maxSealedLength = 4_096
    /// The shortest sealed field, in bytes once decoded: a 12-byte nonce and a 16-byte tag around no plaintext.
    public static let minSealedBytes = 28

    public init() {}

    public var functions: [FunctionSpec] {
        [HomeFunction.addCommunity, HomeFunction.getCommunities, HomeFunction.updateCommunity, HomeFunction.removeCommunity].map { FunctionSpec($0) }
    }

    public var results: [String] {
        [HomeFunction.communityAdded, HomeFunction.getCommunity, HomeFunction.communityUpdated, HomeFunction.communityRemoved]
    }

    public func perform(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        guard community.configuration.homes else {
            throw CommuneError(.unknownFunction, "This community does not keep homes (commune serve --homes off).")
        }
        let member = context.member.id
        let reader = try call.payload()
        let now = UnixTime.nowMilliseconds()
        let change: HomeChange
        switch call.function {
        case HomeFunction.getCommunities:
            let entries = try await self.entries(of: member, in: community)
            return .reply(CommunityFunctions.result(HomeFunction.getCommunity, ["communities": .array(entries.map(Self.json))]))
        case HomeFunction.addCommunity:
            let id = try reader.uuid("id")
            let address = try Self.sealed(reader, Self.addressField)
            let title = try Self.sealed(reader, Self.titleField)
            let secret = try Self.optionalSealed(reader, Self.secretField)
            let position = try Self.position(reader)
            change = .add(HomeEntry(memberID: member, id: id, position: position, address: address, title: title, secret: secret, updatedAt: now))
        case HomeFunction.updateCommunity:
            let id = try reader.uuid("id")
            var edit = HomeEntryEdit(updatedAt: now)
            if reader.object[Self.addressField] != nil { edit.address = try Self.sealed(reader, Self.addressField) }
            if reader.object[Self.titleField] != nil { edit.title = try Self.sealed(reader, Self.titleField) }
            if reader.object[Self.secretField] != nil { edit.secret = .some(try Self.optionalSealed(reader, Self.secretField)) }
            if reader.object["position"] != nil { edit.position = try Self.position(reader) }
            guard !edit.isEmpty else {
                throw .invalidArgument("update_community changes at least one of community_address, community_title, community_secret and position.")
            }
            change = .update(id, edit)
        case HomeFunction.removeCommunity:
            change = .remove(try reader.uuid("id"))
        default:
            throw self.unknownFunction(call)
        }
        let outcome = try await self.apply(change, of: member, in: community)
        let result: FunctionResult
        switch outcome {
        case .added(let entry): result = CommunityFunctions.result(HomeFunction.communityAdded, ["community": Self.json(entry)])
        case .updated(let entry): result = CommunityFunctions.result(HomeFunction.communityUpdated, ["community": Self.json(entry)])
        case .removed(let id): result = CommunityFunctions.result(HomeFunction.communityRemoved, ["id": .string(id.value)])
        case .idTaken: throw .invalidArgument("id \(change.entryID) is already in your home.")
        case .positionTaken(let position): throw .invalidArgument("position \(position) is taken in your home.")
        case .full:
            let limit = community.configuration.maxHomeEntries
            throw CommuneError(.limitReached, "Your home holds \(limit) entries, the most it may hold; remove one first.")
        case .othersEntry: throw .forbidden("Entry \(change.entryID) is another member's.")
        case .notFound: throw .notFound("No entry \(change.entryID) in your home.")
        }
        // The member's other devices hear of it (on a cluster, through the stream, like every update).
        return Effect(reply: result).publishing(result, to: Audience.member(member).excluding(context.connection))
    }

    private func entries(of member: UUIDString, in community: Community) async throws(CommuneError) -> [HomeEntry] {
        do {
            return try await community.store.homeEntries(memberID: member)
        } catch {
            community.logger.error("Reading a home failed: \(error)")
            throw .internalError("Your home could not be read.")
        }
    }

    private func apply(_ change: HomeChange, of member: UUIDString, in community: Community) async throws(CommuneError) -> HomeOutcome {
        do {
            return try await community.store.changeHome(memberID: member, change, limit: community.configuration.maxHomeEntries)
        } catch StoreError.storageFull {
            throw community.storageHealth.full("your home was not changed.")
        } catch {
            community.logger.error("Changing a home failed: \(error)")
            throw .internalError("Your home could not be changed.")
        }
    }

    /// An entry as `community_added`, `community_updated` and `get_community` show it.
    static func json(_ entry: HomeEntry) -> JSONValue {
        [
            "id": .string(entry.id.value), "community_address": .string(entry.address), "community_title": .string(entry.title),
            "community_secret": entry.secret.map { .string($0) } ?? .null, "position": .string(entry.position.description),
            "updated_at": .string(Self.timestamp(entry.updatedAt)),
        ]
    }

    /// Unix milliseconds as ISO-8601 UTC with milliseconds, `2026-12-02T03:05:00.123Z`.
    static func timestamp(_ milliseconds: Int64) -> String {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000).formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    private static func position(_ reader: PayloadReader) throws(CommuneError) -> HomePosition {
        let text = try reader.string("position")
        guard let position = HomePosition(text) else {
            throw .invalidArgument(
                "data.payload.position must be 1 to 3 numbers 0 to 999999 joined by dots, without leading zeros (\"3\", \"3.1\"), not \"\(text.prefix(32))\"."
            )
        }
        return position
    }

    private static func optionalSealed(_ reader: PayloadReader, _ key: String) throws(CommuneError) -> String? {
        guard try reader.optionalString(key) != nil else { return nil }
        return try Self.sealed(reader, key)
    }

    /// A sealed field: required, standard base64 with padding, within the limits.
    private static func sealed(_ reader: PayloadReader, _ key: String) throws(CommuneError) -> String {
        let value = try reader.string(key)
        let count = value.utf8.count
        guard count <= Self.maxSealedLength else {
            throw .invalidArgument("data.payload.\(key) must be at most \(Self.maxSealedLength) characters of base64, not \(count).")
        }
        guard let bytes = Self.base64Length(value) else {
            throw .invalidArgument("data.payload.\(key) must be standard base64 with padding (the client seals it).")
        }
        guard bytes >= Self.minSealedBytes else {
            throw .invalidArgument(
                "data.payload.\(key) is \(bytes) bytes, too short to be sealed (at least \(Self.minSealedBytes): a 12-byte nonce and a 16-byte tag)."
            )
        }
        return value
    }

    /// The number of bytes `text` decodes to when it is standard, padded base64 (RFC 4648 section 4, no line breaks,
    /// unused bits zero); `nil` otherwise.
    static func base64Length(_ text: String) -> Int? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 4 == 0 else { return nil }
        let padding = utf8.reversed().prefix { $0 == UInt8(ascii: "=") }.count
        guard padding <= 2 else { return nil }
        var last = 0
        for byte in utf8.dropLast(padding) {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): last = Int(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): last = Int(byte - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): last = Int(byte - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): last = 62
            case UInt8(ascii: "/"): last = 63
            default: return nil
            }
        }
        // The last character before the padding carries 4 (one `=`) or 2 (two) bits that must be zero.
        if padding == 1, last & 0b11 != 0 { return nil }
        if padding == 2, last & 0b1111 != 0 { return nil }
        return utf8.count / 4 * 3 - padding
    }
}
