import CommuneProtocol

/// What `set_access` (and `create`'s `access`) may ask: existing groups only, and never a change that hides a node
/// from a group at or above the caller's power level that saw it (a moderator cannot hide a channel from the admins,
/// nor from their own group). Nodes the caller cannot see are not theirs to touch at all: they are not found.
enum ChannelAccessRules {
    /// The group list in `field` of `reader`: an array of existing group names (at most ``ChannelAccess/maxGroups``;
    /// `[]`: the owner only), or `null`/absent for everyone.
    static func groups(_ reader: PayloadReader, field: String, community: Community) throws(CommuneError) -> Set<String>? {
        guard let value = reader.object[field], value != .null else { return nil }
        guard let items = value.arrayValue else {
            throw .invalidArgument("data.payload.\(field) must be an array of group names or null, not \(value.typeName).")
        }
        guard items.count <= ChannelAccess.maxGroups else {
            throw .invalidArgument("data.payload.\(field) may name at most \(ChannelAccess.maxGroups) groups.")
        }
        let known = community.permissions.groups
        var groups: Set<String> = []
        for (index, item) in items.enumerated() {
            guard let name = item.stringValue else {
                throw .invalidArgument("data.payload.\(field)[\(index)] must be a group name, not \(item.typeName).")
            }
            guard known[name] != nil else { throw .notFound("No group '\(name)'.") }
            groups.insert(name)
        }
        return groups
    }

    /// Throws `forbidden` when, between `before` and `after`, a node of `changing` would stop being visible to a
    /// group whose power is at or above `actor`'s (the owner is above this rule).
    static func requireNoneHiddenAbove(
        changing ids: [Int64], before: InteractableTree, after: InteractableTree, by actor: Member, checker: PermissionChecker
    ) throws(CommuneError) {
        guard !checker.isOwner(actor) else { return }
        let power = checker.power(of: actor)
        let guarded = checker.groups.values.filter { $0.name != DefaultGroup.owner && $0.power >= power }.sorted { $0.name < $1.name }
        for group in guarded {
            for id in ids {
                let saw = before.access(of: id).map { $0.contains(group.name) } ?? true
                let sees = after.access(of: id).map { $0.contains(group.name) } ?? true
                if saw && !sees {
                    throw .forbidden(
                        "This would hide '\(after.nodes[id].map { after.address(of: $0).description } ?? "it")' from the group '\(group.name)', whose power level is not below yours."
                    )
                }
            }
        }
    }
}
