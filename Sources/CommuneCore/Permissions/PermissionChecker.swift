import CommuneProtocol

/// The one place permission and power checks live.
///
/// A member in a group that does not exist (a removed group, or one named by `set_user_group` before it was
/// created; seed 002 allows both) holds no permissions and power 0.
public struct PermissionChecker: Sendable {
    public let groups: [String: Group]

    public init(groups: [String: Group]) {
        self.groups = groups
    }

    public func group(of member: Member) -> Group {
        self.groups[member.group] ?? Group(name: member.group, permissions: [], power: 0)
    }

    public func isOwner(_ member: Member) -> Bool { member.group == DefaultGroup.owner }

    public func power(of member: Member) -> Int64 {
        self.isOwner(member) ? Int64.max : self.group(of: member).power
    }

    public func has(_ member: Member, _ permission: Permission) -> Bool {
        self.isOwner(member) || self.group(of: member).permissions.contains(permission)
    }

    /// Throws `forbidden` unless `member` holds `permission`.
    public func require(_ permission: Permission, for member: Member) throws(CommuneError) {
        guard self.has(member, permission) else {
            throw .forbidden("You need the \(permission) permission for this.")
        }
    }

    /// Throws `forbidden` unless `actor` holds `permission` and has more power than `target`.
    public func require(_ permission: Permission, for actor: Member, over target: Member) throws(CommuneError) {
        try self.require(permission, for: actor)
        guard self.power(of: actor) > self.power(of: target) else {
            throw .forbidden("You cannot act on \(target.username): their power level is not below yours.")
        }
    }

    /// Whether `actor` may hand out `group` (place a member in it, or see and touch an invite into it): never one
    /// at or above their own power, unless they are an owner.
    public func canAssign(_ group: String, by actor: Member) -> Bool {
        if self.isOwner(actor) { return true }
        let power = self.groups[group]?.power ?? 0
        return group != DefaultGroup.owner && power < self.power(of: actor)
    }

    /// Throws `forbidden` unless `actor` may hand out `group` (``canAssign(_:by:)``).
    public func requireCanAssign(_ group: String, by actor: Member) throws(CommuneError) {
        guard self.canAssign(group, by: actor) else {
            throw .forbidden("You cannot place members in the group '\(group)': its power level is not below yours.")
        }
    }
}
