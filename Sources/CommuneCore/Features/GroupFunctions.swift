import CommuneProtocol

/// Groups, their permissions and power levels, and who is in which (seeds 002 and 003): `get_groups` for every
/// member; changes need `set_group_permissions` or `set_user_groups` and never reach at or above the caller's power.
/// Every member receives `group_changed`, `group_removed` and `member_changed`.
struct GroupFunctions: Capability {
    var functions: [FunctionSpec] {
        [
            FunctionSpec(CommunityFunctions.getGroups), FunctionSpec(CommunityFunctions.updateGroup),
            FunctionSpec(CommunityFunctions.createGroup), FunctionSpec(CommunityFunctions.removeGroup),
            FunctionSpec(CommunityFunctions.setUserGroup),
        ]
    }

    var results: [String] {
        [CommunityFunctions.groupList, CommunityFunctions.groupChanged, CommunityFunctions.groupRemoved, CommunityFunctions.memberChanged]
    }

    func perform(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect {
        switch call.function {
        case CommunityFunctions.getGroups:
            let groups = context.community.groupsList().map(CommunityFunctions.json(for:))
            return .reply(CommunityFunctions.result(CommunityFunctions.groupList, ["groups": .array(groups)]))
        case CommunityFunctions.updateGroup, CommunityFunctions.createGroup:
            return try await self.updateGroup(call, context: context)
        case CommunityFunctions.removeGroup:
            return try await self.removeGroup(call, context: context)
        case CommunityFunctions.setUserGroup:
            return try await self.setUserGroup(call, context: context)
        default:
            throw self.unknownFunction(call)
        }
    }

    /// `update_group {group, changes: [{"add": permission} | {"remove": permission}], power?}` (seed 002's
    /// `updategroup`; creates the group when it does not exist).
    func updateGroup(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        let checker = community.permissions
        try checker.require(.setGroupPermissions, for: context.member)
        let reader = try call.payload()
        let name = try StructureFunctions.validatedName(try reader.string("group"), field: "data.payload.group")
        guard name != DefaultGroup.owner else { throw .forbidden("The owner group cannot be changed.") }
        try Self.requireDistinct(name, among: checker.groups.keys)
        if call.function == CommunityFunctions.createGroup, checker.groups[name] != nil {
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
        let changes = call.request.payload["changes"] ?? .array([])
        guard let list = changes.arrayValue else { throw .invalidArgument("data.payload.changes must be an array, not \(changes.typeName).") }
        for (index, change) in list.enumerated() {
            let item = try PayloadReader(change, context: "data.payload.changes[\(index)]")
            if let added = try item.optionalString("add") {
                let permission = try CommunityFunctions.permission(added)
                guard checker.has(context.member, permission) else {
                    throw .forbidden("You cannot grant \(permission): you do not hold it.")
                }
                group.permissions.insert(permission)
            } else if let removed = try item.optionalString("remove") {
                group.permissions.remove(try CommunityFunctions.permission(removed))
            } else {
                throw .invalidArgument("data.payload.changes[\(index)] must be {\"add\": permission} or {\"remove\": permission}.")
            }
        }
        let creating = checker.groups[name] == nil
        try await community.saveGroup(group)
        await community.audit(
            context.member, action: creating ? .groupCreate : .groupChange, target: name,
            "\(creating ? "created" : "updated") group '\(name)': \(group.permissions.sorted().map(\.rawValue).joined(separator: ", ")) (power \(group.power))"
        )
        let result = CommunityFunctions.result(CommunityFunctions.groupChanged, CommunityFunctions.json(for: group))
        // A group created anew may be one a private channel lists: its members see it again.
        let seeing = creating && community.tree.hasRestrictions ? await community.visibilityChanged() : []
        return Effect(reply: result, updates: [Update(result, to: .community)] + seeing)
    }

    func removeGroup(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        let checker = community.permissions
        try checker.require(.setGroupPermissions, for: context.member)
        let name = try call.payload().string("group")
        guard name != DefaultGroup.owner else { throw .forbidden("The owner group cannot be removed.") }
        guard checker.groups[name] != nil else { throw .notFound("No group '\(name)'.") }
        try checker.requireCanAssign(name, by: context.member)
        try await community.deleteGroup(name)
        await community.audit(context.member, action: .groupRemove, target: name, "removed group '\(name)'")
        let result = CommunityFunctions.result(CommunityFunctions.groupRemoved, ["group": .string(name)])
        // Its members no longer see the private channels it was let into.
        let seeing = community.tree.hasRestrictions ? await community.visibilityChanged() : []
        return Effect(reply: result, updates: [Update(result, to: .community)] + seeing)
    }

    /// Refuses a group name that is not an existing group's but looks like one (``TextPolicy/areConfusable(_:_:)``):
    /// `mоderator` with a Cyrillic о would hold none of the moderators' permissions while showing as theirs.
    static func requireDistinct(_ name: String, among groups: some Collection<String>) throws(CommuneError) {
        guard !groups.contains(name), let other = TextPolicy.lookalike(of: name, among: groups) else { return }
        throw .invalidArgument("The group '\(name)' looks like the existing group '\(other)'; choose a name that is easy to tell apart.")
    }

    /// `set_user_group {user_id, group}`: any group name, existing or not (seed 002).
    func setUserGroup(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        let checker = community.permissions
        let reader = try call.payload()
        let userID = try reader.uuid("user_id")
        let group = try StructureFunctions.validatedName(try reader.string("group"), field: "data.payload.group")
        try Self.requireDistinct(group, among: checker.groups.keys)
        guard let target = community.member(userID) else { throw .notFound("No member \(userID).") }
        try checker.require(.setUserGroups, for: context.member, over: target)
        try checker.requireCanAssign(group, by: context.member)
        var moved = target
        moved.group = group
        let updated = try await community.saveMember(moved)
        await community.audit(context.member, action: .setGroup, target: updated.id.value, "moved \(updated.username) to group '\(group)'")
        let result = community.memberChanged(updated)
        // The member's new group may see other private channels than the old one.
        let seeing = community.tree.hasRestrictions ? await community.visibilityChanged(only: [updated.id]) : []
        return Effect(reply: result, updates: [Update(result, to: community.listingAudience(of: updated.id))] + seeing)
    }

}
