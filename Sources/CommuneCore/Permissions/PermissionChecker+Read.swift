/// Who may see and read a channel (private channels: ``ChannelAccess``).
extension PermissionChecker {
    /// Whether `member` may see `node` of `tree` (and, for a channel, read its messages): the owner always; anyone
    /// when neither the node nor a category above it is restricted; otherwise a member whose group exists and is
    /// allowed by every restriction on the node's path. Every request naming a node, the tree a member is sent, the
    /// channel's audience (``Community/recipients(of:)``), search and read state ask this.
    public func canSee(_ member: Member, _ node: Interactable, in tree: InteractableTree) -> Bool {
        guard let allowed = tree.access(of: node.id) else { return true }
        return self.isAllowed(member, by: allowed)
    }

    /// Whether `member` may read the messages of `channel`, a node of `tree` (``canSee(_:_:in:)``).
    public func canRead(_ member: Member, channel: Interactable, in tree: InteractableTree) -> Bool {
        self.canSee(member, channel, in: tree)
    }

    /// Whether `member` passes a restriction to `allowed`.
    func isAllowed(_ member: Member, by allowed: Set<String>) -> Bool {
        self.isOwner(member) || (allowed.contains(member.group) && self.groups[member.group] != nil)
    }

    /// What decides which nodes `member` sees: members with the same key see the same tree.
    public func visibilityKey(of member: Member) -> String {
        if self.isOwner(member) { return "owner" }
        return self.groups[member.group] == nil ? "none" : "group:\(member.group)"
    }
}
