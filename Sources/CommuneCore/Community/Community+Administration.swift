import CommuneProtocol
import Logging
import Synchronization

/// Changes to the community's structure, groups and members. Callers check permissions first.
extension Community {
    /// Reloads the tree from the store after a structure change and returns it.
    @discardableResult
    func reloadTree() async throws(CommuneError) -> InteractableTree {
        do {
            let tree = InteractableTree(try await self.store.interactables())
            self.state.withLock { $0.tree = tree }
            self.cacheChanged(.tree)
            return tree
        } catch {
            self.logger.error("Reloading the tree failed: \(error)")
            throw .internalError("The channel tree could not be read.")
        }
    }

    var tree: InteractableTree { self.state.withLock { $0.tree } }

    /// Replaces the codec properties of `node` (a topic, a link's target, a codec's own settings) and reloads the
    /// tree, so that the next `identification_response` and `tree_changed` show them.
    public func setProperties(_ properties: [String: String], of node: Interactable) async throws(CommuneError) {
        do {
            try await self.store.setProperties(properties, of: node.id)
        } catch {
            self.logger.error("Saving the properties of '\(node.name)' failed: \(error)")
            throw .internalError("The change to '\(node.name)' could not be saved.")
        }
        try await self.reloadTree()
    }

    /// The interactable at `address` as the tree holds it now.
    public func interactable(at address: ChannelAddress) -> Interactable? {
        self.state.withLock { $0.tree.node(at: address) }
    }

    /// The interactable with `id` as the tree holds it now.
    public func interactable(_ id: Int64) -> Interactable? {
        self.state.withLock { $0.tree.nodes[id] }
    }

    /// Records a moderation or structure change: `action` what was done, `target` what it was done to (see
    /// ``AuditEntry/target``), `text` the sentence people read after the actor's name. A failure to record is
    /// logged, not fatal to the change.
    public func audit(_ actor: Member, action: AuditAction, target: String, _ text: String) async {
        do {
            try await self.store.appendAudit(
                AuditEntry(actorID: actor.id, actorName: actor.username, action: action, target: target, text: text, time: UnixTime.nowMilliseconds())
            )
        } catch {
            self.logger.error("Writing the audit log failed: \(error)")
        }
        self.logger.notice(
            "\(actor.username): \(text)", metadata: ["user_id": "\(actor.id)", "action": "\(action)", "target": "\(target)"]
        )
    }

    func saveGroup(_ group: Group) async throws(CommuneError) {
        do {
            try await self.store.saveGroup(group)
        } catch {
            throw .internalError("The group could not be saved.")
        }
        self.state.withLock { $0.groups[group.name] = group }
        self.cacheChanged(.groups)
    }

    func deleteGroup(_ name: String) async throws(CommuneError) {
        do {
            try await self.store.deleteGroup(name)
        } catch {
            throw .internalError("The group could not be removed.")
        }
        _ = self.state.withLock { $0.groups.removeValue(forKey: name) }
        self.cacheChanged(.groups)
    }

    func groupsList() -> [Group] {
        self.state.withLock { Array($0.groups.values) }.sorted { ($0.power, $1.name) > ($1.power, $0.name) }
    }
}

/// Changes to members and to the community's information. Callers check permissions first.
extension Community {
    /// Stores a changed member (name, group, status, mute) and returns it as now known.
    func saveMember(_ member: Member) async throws(CommuneError) -> Member {
        do {
            try await self.store.updateMember(member)
        } catch {
            self.logger.error("Updating a member failed: \(error)")
            throw .internalError("The member could not be changed.")
        }
        let saved = try self.state.withLock { state throws(CommuneError) -> Member in
            guard state.members[member.id] != nil else { throw .notFound("No member \(member.id).") }
            state.members[member.id] = member
            return member
        }
        self.cacheChanged(.member(member.id))
        return saved
    }

    /// Removes a member (and bans them when `ban` is given): their key no longer logs in, their HTTP tokens stop
    /// working, and with `vengeance` their messages are masked and their uploads deleted.
    func removeMember(_ member: Member, ban: Ban?, vengeance: Bool) async throws(CommuneError) {
        let uploads: [String]
        do {
            uploads = try await self.store.removeMember(member.id, ban: ban, vengeance: vengeance)
        } catch {
            self.logger.error("Removing a member failed: \(error)")
            throw .internalError("The member could not be removed.")
        }
        self.state.withLock { state in
            state.members[member.id] = nil
            state.membersByKey.remove(X25519Key.canonical(member.publicKey))
        }
        self.cacheChanged(.member(member.id))
        do {
            try await self.sessions.revokeAll(of: member.id)
        } catch {
            self.logger.error("Revoking the session tokens of a removed member failed: \(error)")
        }
        if let files = self.attachments {
            for id in uploads { files.delete(id: id) }
        }
    }

    /// Stores the community's information.
    func saveInfo(_ info: CommunityInfo) async throws(CommuneError) {
        do {
            for (key, value) in info.settings { try await self.store.setSetting(key, value) }
        } catch {
            self.logger.error("Saving the community's information failed: \(error)")
            throw .internalError("The community's information could not be saved.")
        }
        self.state.withLock { $0.info = info }
        self.cacheChanged(.info)
    }

    /// The `member_changed` update for `member`.
    func memberChanged(_ member: Member) -> FunctionResult {
        CommunityFunctions.result(CommunityFunctions.memberChanged, CommunityFunctions.json(for: member, online: self.isOnline(member.id)))
    }
}
