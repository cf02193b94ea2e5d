import CommuneProtocol

/// Functions of the community itself, addressed with `codec: "community"`, `path: ""`, `name: ""`.
public struct CommunityFunctions: Sendable {
    public static let codec = "community"
    public static let getMembers = "get_members"
    public static let memberList = "member_list"
    public static let memberJoined = "member_joined"
    public static let presence = "presence"

    public init() {}

    static let address = ChannelAddress(path: "", name: "")

    public func perform(_ request: FunctionRequest, context: FunctionContext) async throws(CommuneError) -> FunctionResult {
        switch request.function {
        case Self.getMembers:
            let community = context.community
            let members = community.members().map { Self.json(for: $0, online: community.isOnline($0.id)) }
            return FunctionResult(codec: Self.codec, address: Self.address, result: Self.memberList, payload: ["members": .array(members)])
        default:
            throw .init(.unknownFunction, "The community has no function '\(request.function)'.")
        }
    }

    /// A member as `member_list` and `member_joined` show it.
    public static func json(for member: Member, online: Bool) -> JSONValue {
        [
            "user_id": .string(member.id.value), "username": .string(member.username), "group": .string(member.group),
            "online": .bool(online),
        ]
    }

    /// The `member_joined` update.
    public static func memberJoinedUpdate(_ member: Member, online: Bool) -> FunctionResult {
        FunctionResult(codec: Self.codec, address: Self.address, result: Self.memberJoined, payload: Self.json(for: member, online: online))
    }

    /// The `presence` update.
    public static func presenceUpdate(_ member: UUIDString, online: Bool) -> FunctionResult {
        FunctionResult(
            codec: Self.codec, address: Self.address, result: Self.presence,
            payload: ["user_id": .string(member.value), "online": .bool(online)]
        )
    }
}
