import CommuneProtocol

/// The names and shapes of the community's own functions and results, addressed with `codec: "community"`,
/// `path: ""`, `name: ""`. Each function is answered by one feature (``MemberListFeature``, ``MemberFunctions``,
/// ``GroupFunctions``, ``InviteFunctions``, ``InfoFunctions``, ``AuditFunctions``), registered in ``CodecRegistry``.
public enum CommunityFunctions {
    public static let codec = "community"
    public static let getMembers = "get_members"
    public static let memberList = "member_list"
    public static let memberJoined = "member_joined"
    public static let presence = "presence"
    public static let treeChanged = "tree_changed"
    public static let getGroups = "get_groups"
    public static let groupList = "group_list"
    public static let updateGroup = "update_group"
    public static let createGroup = "create_group"
    public static let removeGroup = "remove_group"
    public static let groupChanged = "group_changed"
    public static let groupRemoved = "group_removed"
    public static let setUserGroup = "set_user_group"
    public static let memberChanged = "member_changed"
    public static let createInvite = "create_invite"
    public static let inviteCreated = "invite_created"
    public static let listInvites = "list_invites"
    public static let inviteList = "invite_list"
    public static let revokeInvite = "revoke_invite"
    public static let inviteRevoked = "invite_revoked"
    public static let getAuditLog = "get_audit_log"
    public static let auditLog = "audit_log"

    /// The community's address: empty path and name.
    public static let address = ChannelAddress(path: "", name: "")

    /// A result addressed at the community.
    public static func result(_ name: String, _ payload: JSONValue = .object([:])) -> FunctionResult {
        FunctionResult(codec: Self.codec, address: Self.address, result: name, payload: payload)
    }

    static func permission(_ name: String) throws(CommuneError) -> Permission {
        let permission = Permission(rawValue: name)
        guard Permission.all.contains(permission) else {
            throw .invalidArgument("Unknown permission '\(name)'; known: \(Permission.all.map(\.rawValue).joined(separator: ", ")).")
        }
        return permission
    }

    static func json(for group: Group) -> JSONValue {
        [
            "name": .string(group.name), "power": .int(group.power),
            "permissions": .array(group.permissions.sorted().map { .string($0.rawValue) }),
        ]
    }

    /// An invite as `invite_created` and `invite_list` show it; `link` when the community's address (`base`) is
    /// known.
    static func json(for invite: Invite, base: String?, now: Int64) -> JSONValue {
        var object: [String: JSONValue] = [
            "code": .string(invite.code), "group": .string(invite.group), "uses_left": .int(invite.usesLeft),
            "expires_at": invite.expiresAt.map { .int($0) } ?? .null, "created_at": .int(invite.createdAt),
            "usable": .bool(invite.refusal(now: now) == nil), "revoked": .bool(invite.revoked),
        ]
        if let base { object["link"] = .string(InviteLink(baseURL: base, code: invite.code).description) }
        return .object(object)
    }

    /// A member as `member_list`, `member_joined` and `member_changed` show it.
    public static func json(for member: Member, online: Bool) -> JSONValue {
        [
            "user_id": .string(member.id.value), "username": .string(member.username), "group": .string(member.group),
            "online": .bool(online), "status": .string(member.status.rawValue), "status_text": .string(member.statusText),
            "suppressed": .bool(member.suppressed),
        ]
    }

    /// The `member_joined` update.
    public static func memberJoinedUpdate(_ member: Member, online: Bool) -> FunctionResult {
        Self.result(Self.memberJoined, Self.json(for: member, online: online))
    }

    /// The `presence` update.
    public static func presenceUpdate(_ member: UUIDString, online: Bool) -> FunctionResult {
        Self.result(Self.presence, ["user_id": .string(member.value), "online": .bool(online)])
    }
}
