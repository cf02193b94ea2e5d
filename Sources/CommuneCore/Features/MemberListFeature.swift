import CommuneProtocol
import Foundation

/// The member list (`get_members`): a page of it in username order, with how many members there are and how many
/// are online, or the members asked for by id. A page is also what the connection shows from then on: the
/// list's updates (`member_joined`, `member_changed`, `presence`) about a member reach the connections whose page
/// holds them (``MemberListSubscriptions``; the first page from login), and `member_counts` the others.
struct MemberListFeature: Capability {
    static let memberCounts = "member_counts"

    var functions: [FunctionSpec] { [FunctionSpec(CommunityFunctions.getMembers)] }

    var results: [String] {
        [CommunityFunctions.memberList, CommunityFunctions.memberJoined, CommunityFunctions.presence, Self.memberCounts]
    }

    func perform(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        let reader = try call.payload()
        let maxPage = community.configuration.maxMemberPage
        if let query = try reader.optionalString("query") {
            return .reply(try Self.search(query, reader: reader, community: community))
        }
        if let ids = try Self.userIDs(reader, max: maxPage) {
            guard reader.object["offset"] == nil, reader.object["limit"] == nil else {
                throw .invalidArgument("\(reader.context).user_ids cannot be given with offset or limit.")
            }
            let (found, total, online) = community.members(ids)
            return .reply(Self.page(found, offset: nil, total: total, online: online, community: community))
        }
        let offset = try reader.optionalInt("offset") ?? 0
        guard offset >= 0 else { throw .invalidArgument("\(reader.context).offset must be 0 or more.") }
        let limit = try reader.optionalInt("limit") ?? Int64(community.configuration.defaultMemberPage)
        guard (0...Int64(maxPage)).contains(limit) else {
            throw .invalidArgument("\(reader.context).limit must be between 0 and \(maxPage).")
        }
        // Past the end is an empty page; an offset beyond any list is kept in range so that the sum cannot overflow.
        let start = Int(min(offset, Int64(Int32.max)))
        let range = start..<(start + Int(limit))
        // The subscription changes before the page is read: a change after the read reaches the connection.
        community.memberList.subscribe(context.connection, to: range)
        let (members, total, online) = community.members(in: range)
        return .reply(Self.page(members, offset: start, total: total, online: online, community: community))
    }

    /// `get_members {query, limit?}`: the members whose name starts with `query`, case and accents aside (at most
    /// `limit`), by a binary search in the roster's folded order. It changes no page: a connection's shown page stays.
    static func search(_ query: String, reader: PayloadReader, community: Community) throws(CommuneError) -> FunctionResult {
        let field = "\(reader.context).query"
        guard reader.object["offset"] == nil, reader.object["user_ids"] == nil else {
            throw .invalidArgument("\(field) cannot be given with offset or user_ids.")
        }
        if let refusal = TextPolicy.firstRefusal(inName: query) {
            throw .invalidArgument("\(field) must not contain \(refusal.description).")
        }
        let maxLength = community.configuration.maxUsernameLength
        guard query.precomposedStringWithCanonicalMapping.unicodeScalars.count <= maxLength else {
            throw .invalidArgument("\(field) must be at most \(maxLength) characters.")
        }
        let maxSearch = community.configuration.maxMemberSearch
        let limit = try reader.optionalInt("limit") ?? Int64(community.configuration.defaultMemberSearch)
        guard (1...Int64(maxSearch)).contains(limit) else {
            throw .invalidArgument("\(reader.context).limit must be between 1 and \(maxSearch) with a query.")
        }
        let (found, total, online) = community.members(startingWith: query, limit: Int(limit))
        return Self.page(found, offset: nil, total: total, online: online, community: community)
    }

    /// `user_ids`: at most `max` distinct member ids, or `nil` when the field is absent.
    static func userIDs(_ reader: PayloadReader, max: Int) throws(CommuneError) -> [UUIDString]? {
        let field = "\(reader.context).user_ids"
        switch reader.object["user_ids"] {
        case nil, .null?:
            return nil
        case .array(let values)?:
            guard values.count <= max else { throw .invalidArgument("\(field) may hold at most \(max) ids.") }
            var ids: [UUIDString] = []
            for value in values {
                guard let text = value.stringValue, let id = UUIDString(text) else {
                    throw .invalidArgument("\(field) must hold UUIDs like 6f1c2c9e-0d6b-4e4e-9a43-8d2b1f7e5a10.")
                }
                if !ids.contains(id) { ids.append(id) }
            }
            return ids
        case let other?:
            throw .invalidArgument("\(field) must be an array, not \(other.typeName).")
        }
    }

    static func page(_ members: [Member], offset: Int?, total: Int, online: Int, community: Community) -> FunctionResult {
        var payload: [String: JSONValue] = [
            "members": .array(members.map { CommunityFunctions.json(for: $0, online: community.isOnline($0.id)) }),
            "total": .int(Int64(total)), "online": .int(Int64(online)),
        ]
        if let offset { payload["offset"] = .int(Int64(offset)) }
        return CommunityFunctions.result(CommunityFunctions.memberList, .object(payload))
    }

    /// The `member_counts` update; `changed_from` when a place of the list changed since the last one.
    static func counts(total: Int, online: Int, changedFrom: Int?) -> FunctionResult {
        var payload: [String: JSONValue] = ["total": .int(Int64(total)), "online": .int(Int64(online))]
        if let changedFrom { payload["changed_from"] = .int(Int64(changedFrom)) }
        return CommunityFunctions.result(Self.memberCounts, .object(payload))
    }
}
