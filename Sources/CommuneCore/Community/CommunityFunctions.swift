import CommuneProtocol

/// Functions of the community itself, addressed with `codec: "community"`, `path: ""`, `name: ""`.
public struct CommunityFunctions: Sendable {
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

    public init() {}

    static let address = ChannelAddress(path: "", name: "")

    public func perform(_ request: FunctionRequest, context: FunctionContext) async throws(CommuneError) -> FunctionResult {
        if MemberFunctions.functions.contains(request.function) {
            return try await MemberFunctions().perform(request, context: context)
        }
        if InfoFunctions.functions.contains(request.function) {
            return try await InfoFunctions().perform(request, context: context)
        }
        switch request.function {
        case Self.getMembers:
            let community = context.community
            let members = community.members().map { Self.json(for: $0, online: community.isOnline($0.id)) }
            return FunctionResult(codec: Self.codec, address: Self.address, result: Self.memberList, payload: ["members": .array(members)])
        case Self.getGroups:
            let groups = context.community.groupsList().map(Self.json(for:))
            return self.result(Self.groupList, ["groups": .array(groups)])
        case Self.updateGroup, Self.createGroup:
            return try await self.updateGroup(request, context: context)
        case Self.removeGroup:
            return try await self.removeGroup(request, context: context)
        case Self.setUserGroup:
            return try await self.setUserGroup(request, context: context)
        case Self.createInvite:
            return try await self.createInvite(request, context: context)
        case Self.listInvites:
            try context.community.permissions.require(.inviteUsers, for: context.member)
            let invites: [Invite]
            do { invites = try await context.community.store.invites() } catch { throw .internalError("The invites could not be read.") }
            let now = UnixTime.nowMilliseconds()
            return self.result(Self.inviteList, ["invites": .array(invites.map { Self.json(for: $0, now: now) })])
        case Self.revokeInvite:
            try context.community.permissions.require(.inviteUsers, for: context.member)
            let code = try PayloadReader(request.payload, context: "data.payload").string("code")
            let revoked: Bool
            do { revoked = try await context.community.store.revokeInvite(code) } catch { throw .internalError("The invite could not be revoked.") }
            guard revoked else { throw .notFound("No invite with that code.") }
            await context.community.audit(context.member, "revoked invite \(code.prefix(6))…")
            return self.result(Self.inviteRevoked, ["code": .string(code)])
        case Self.getAuditLog:
            try context.community.permissions.require(.manageCommunity, for: context.member)
            let limit = try PayloadReader(request.payload, context: "data.payload").optionalInt("amount") ?? 100
            guard (1...1000).contains(limit) else { throw .invalidArgument("data.payload.amount must be between 1 and 1000.") }
            let entries: [AuditEntry]
            do { entries = try await context.community.store.auditLog(limit: Int(limit)) } catch { throw .internalError("The audit log could not be read.") }
            return self.result(Self.auditLog, ["entries": .array(entries.map { entry in
                ["actor_id": .string(entry.actorID.value), "actor_name": .string(entry.actorName), "action": .string(entry.action), "time": .int(entry.time)]
            })])
        default:
            throw .init(.unknownFunction, "The community has no function '\(request.function)'.")
        }
    }

    func result(_ name: String, _ payload: JSONValue) -> FunctionResult {
        FunctionResult(codec: Self.codec, address: Self.address, result: name, payload: payload)
    }

    /// `update_group {group, changes: [{"add": permission} | {"remove": permission}], power?}` (seed 002's
    /// `updategroup`; creates the group when it does not exist).
    func updateGroup(_ request: FunctionRequest, context: FunctionContext) async throws(CommuneError) -> FunctionResult {
        let community = context.community
        let checker = community.permissions
        try checker.require(.setGroupPermissions, for: context.member)
        let reader = try PayloadReader(request.payload, context: "data.payload")
        let name = try StructureFunctions.validatedName(try reader.string("group"), field: "data.payload.group")
        guard name != DefaultGroup.owner else { throw .forbidden("The owner group cannot be changed.") }
        if request.function == Self.createGroup, checker.groups[name] != nil {
            throw .invalidArgument("The group '\(name)' exists already.")
        }
        var group = checker.groups[name] ?? Group(name: name, permissions: [], power: 0)
        try checker.requireCanAssign(name, by: context.member)
        if let power = try reader.optionalInt("power") {
            guard (0...99).contains(power) else { throw .invalidArgument("data.payload.power must be between 0 and 99.") }
            guard checker.isOwner(context.member) || power < checker.power(of: context.member) else {
                throw .forbidden("You cannot raise a group to your own power level or above.")
            }
            group.power = power
        }
        let changes = request.payload["changes"] ?? .array([])
        guard let list = changes.arrayValue else { throw .invalidArgument("data.payload.changes must be an array, not \(changes.typeName).") }
        for (index, change) in list.enumerated() {
            let item = try PayloadReader(change, context: "data.payload.changes[\(index)]")
            if let added = try item.optionalString("add") {
                let permission = try Self.permission(added)
                guard checker.has(context.member, permission) else {
                    throw .forbidden("You cannot grant \(permission): you do not hold it.")
                }
                group.permissions.insert(permission)
            } else if let removed = try item.optionalString("remove") {
                group.permissions.remove(try Self.permission(removed))
            } else {
                throw .invalidArgument("data.payload.changes[\(index)] must be {\"add\": permission} or {\"remove\": permission}.")
            }
        }
        try await community.saveGroup(group)
        await community.audit(context.member, "updated group '\(name)': \(group.permissions.sorted().map(\.rawValue).joined(separator: ", ")) (power \(group.power))")
        context.publisher.publish(self.result(Self.groupChanged, Self.json(for: group)), excluding: nil)
        return self.result(Self.groupChanged, Self.json(for: group))
    }

    func removeGroup(_ request: FunctionRequest, context: FunctionContext) async throws(CommuneError) -> FunctionResult {
        let community = context.community
        let checker = community.permissions
        try checker.require(.setGroupPermissions, for: context.member)
        let name = try PayloadReader(request.payload, context: "data.payload").string("group")
        guard name != DefaultGroup.owner else { throw .forbidden("The owner group cannot be removed.") }
        guard checker.groups[name] != nil else { throw .notFound("No group '\(name)'.") }
        try checker.requireCanAssign(name, by: context.member)
        try await community.deleteGroup(name)
        await community.audit(context.member, "removed group '\(name)'")
        context.publisher.publish(self.result(Self.groupRemoved, ["group": .string(name)]), excluding: nil)
        return self.result(Self.groupRemoved, ["group": .string(name)])
    }

    /// `set_user_group {user_id, group}`: any group name, existing or not (seed 002).
    func setUserGroup(_ request: FunctionRequest, context: FunctionContext) async throws(CommuneError) -> FunctionResult {
        let community = context.community
        let checker = community.permissions
        let reader = try PayloadReader(request.payload, context: "data.payload")
        let userID = try reader.uuid("user_id")
        let group = try StructureFunctions.validatedName(try reader.string("group"), field: "data.payload.group")
        guard let target = community.member(userID) else { throw .notFound("No member \(userID).") }
        try checker.require(.setUserGroups, for: context.member, over: target)
        try checker.requireCanAssign(group, by: context.member)
        var moved = target
        moved.group = group
        let updated = try await community.saveMember(moved)
        await community.audit(context.member, "moved \(updated.username) to group '\(group)'")
        let update = community.memberChanged(updated)
        context.publisher.publish(update, excluding: nil)
        return update
    }

    /// `create_invite {uses?, expires_in?, group?}`: `expires_in` in seconds (0 or absent: 7 days; -1: never).
    func createInvite(_ request: FunctionRequest, context: FunctionContext) async throws(CommuneError) -> FunctionResult {
        let community = context.community
        let checker = community.permissions
        try checker.require(.inviteUsers, for: context.member)
        let reader = try PayloadReader(request.payload, context: "data.payload")
        let uses = try reader.optionalInt("uses") ?? 1
        guard (1...1_000_000).contains(uses) else { throw .invalidArgument("data.payload.uses must be between 1 and 1000000.") }
        let expiresIn = try reader.optionalInt("expires_in") ?? 0
        guard expiresIn >= -1, expiresIn <= 3_650 * 86_400 else {
            throw .invalidArgument("data.payload.expires_in must be seconds (up to 10 years), 0 for 7 days, or -1 for never.")
        }
        let group = try reader.optionalString("group") ?? DefaultGroup.member
        try checker.requireCanAssign(group, by: context.member)
        let lifetime: Int64? = expiresIn == -1 ? nil : (expiresIn == 0 ? 7 * 86_400_000 : expiresIn * 1_000)
        do {
            let invite = try await InviteIssuer.create(in: community.store, group: group, uses: uses, lifetimeMilliseconds: lifetime)
            let link = try await InviteIssuer.link(for: invite, in: community.store)
            await community.audit(context.member, "created an invite for group '\(group)' (\(uses) uses)")
            var payload = Self.json(for: invite, now: UnixTime.nowMilliseconds())
            if case .object(var object) = payload {
                object["link"] = .string(link.description)
                payload = .object(object)
            }
            return self.result(Self.inviteCreated, payload)
        } catch let error as CommuneError {
            throw error
        } catch {
            throw .internalError("The invite could not be created.")
        }
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

    static func json(for invite: Invite, now: Int64) -> JSONValue {
        [
            "code": .string(invite.code), "group": .string(invite.group), "uses_left": .int(invite.usesLeft),
            "expires_at": invite.expiresAt.map { .int($0) } ?? .null, "created_at": .int(invite.createdAt),
            "usable": .bool(invite.refusal(now: now) == nil), "revoked": .bool(invite.revoked),
        ]
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
