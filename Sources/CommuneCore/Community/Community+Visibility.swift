import CommuneProtocol
import Synchronization

/// Private channels in effect: the tree each member is sent, and what follows when who sees what changes (a node's
/// access, a move between categories, a member's group, a group created or removed).
extension Community {
    /// `tree_changed` for the members of `only` (every member when `nil`): the tree as each sees it
    /// (``interactables(for:)``), one update per distinct view (members whose groups see the same nodes get the same
    /// frame). Without any restricted node, one update to the whole community.
    func treeChangedUpdates(only: Set<UUIDString>? = nil) -> [Update] {
        let (tree, checker, members) = self.state.withLock { state in
            (state.tree, PermissionChecker(groups: state.groups), only == nil ? Array(state.members.values) : only!.compactMap { state.members[$0] })
        }
        if only == nil, !tree.hasRestrictions {
            return [Update(self.treeChangedResult(self.interactables()), to: .community)]
        }
        var views: [String: (member: Member, ids: Set<UUIDString>)] = [:]
        for member in members {
            views[checker.visibilityKey(of: member), default: (member, [])].ids.insert(member.id)
        }
        return views.keys.sorted().map { key in
            let view = views[key]!
            return Update(self.treeChangedResult(self.interactables(for: view.member)), to: .members(view.ids))
        }
    }

    /// The `tree_changed` update: a tree as `identification_response` sends it.
    func treeChangedResult(_ nodes: [InteractableNode]) -> FunctionResult {
        CommunityFunctions.result(CommunityFunctions.treeChanged, ["interactables": InteractableNode.encodeTree(nodes)])
    }

    /// Who sees what may have changed for the members of `only` (everyone when `nil`): each gets the tree as they
    /// see it now, and a member in the call of a voice channel they can no longer see leaves it (`no_access`).
    func visibilityChanged(only: Set<UUIDString>? = nil) async -> [Update] {
        var updates = self.treeChangedUpdates(only: only)
        for channel in self.calls.channelsWithCalls() {
            for (id, _) in self.calls.participants(in: channel) where only?.contains(id) ?? true {
                guard let member = self.member(id), !self.canSee(member, channel),
                    let participant = self.calls.leave(id)
                else { continue }
                updates += await self.participantLeft(participant, reason: .noAccess, tellConnection: true)
            }
        }
        return updates
    }
}
