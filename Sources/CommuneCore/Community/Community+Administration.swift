import CommuneProtocol

/// Changes to the community's structure, groups and members. Callers check permissions first.
extension Community {
    /// Reloads the tree from the store after a structure change and returns it.
    @discardableResult
    func reloadTree() async throws(CommuneError) -> InteractableTree {
        do {
            let tree = InteractableTree(try await self.store.interactables())
            self.state.withLock { $0.tree = tree }
            return tree
        } catch {
            self.logger.error("Reloading the tree failed: \(error)")
            throw .internalError("The channel tree could not be read.")
        }
    }

    var tree: InteractableTree { self.state.withLock { $0.tree } }

    /// Records a moderation or structure change. A failure to record is logged, not fatal to the change.
    func audit(_ actor: Member, _ action: String) async {
        do {
            try await self.store.appendAudit(
                AuditEntry(actorID: actor.id, actorName: actor.username, action: action, time: UnixTime.nowMilliseconds())
            )
        } catch {
            self.logger.error("Writing the audit log failed: \(error)")
        }
        self.logger.notice("\(actor.username): \(action)", metadata: ["user_id": "\(actor.id)"])
    }

    /// The `tree_changed` update: the whole tree, as `identification_response` sends it.
    func treeChangedUpdate() -> FunctionResult {
        FunctionResult(
            codec: CommunityFunctions.codec, address: CommunityFunctions.address, result: CommunityFunctions.treeChanged,
            payload: ["interactables": InteractableNode.encodeTree(self.interactables())]
        )
    }

    func saveGroup(_ group: Group) async throws(CommuneError) {
        do {
            try await self.store.saveGroup(group)
        } catch {
            throw .internalError("The group could not be saved.")
        }
        self.state.withLock { $0.groups[group.name] = group }
    }

    func deleteGroup(_ name: String) async throws(CommuneError) {
        do {
            try await self.store.deleteGroup(name)
        } catch {
            throw .internalError("The group could not be removed.")
        }
        _ = self.state.withLock { $0.groups.removeValue(forKey: name) }
    }

    func groupsList() -> [Group] {
        self.state.withLock { Array($0.groups.values) }.sorted { ($0.power, $1.name) > ($1.power, $0.name) }
    }

    func setGroup(of member: UUIDString, to group: String) async throws(CommuneError) -> Member {
        do {
            try await self.store.setMemberGroup(member, group: group)
        } catch {
            throw .internalError("The member's group could not be changed.")
        }
        return try self.state.withLock { state throws(CommuneError) -> Member in
            guard var stored = state.members[member] else { throw .notFound("No member \(member).") }
            stored.group = group
            state.members[member] = stored
            return stored
        }
    }
}
