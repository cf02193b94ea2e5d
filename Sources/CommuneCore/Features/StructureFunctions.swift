import CommuneProtocol
import Logging

/// Creating, renaming, moving and removing interactables, whatever their codec (seeds 002 and 003).
///
/// Addressed like every function: `path`/`name` name the node (for `create`, the node to be). Every change needs
/// `manage_channels`, and every connected member receives `tree_changed` with the whole new tree.
public struct StructureFunctions: Capability {
    public static let create = "create"
    public static let rename = "rename"
    public static let move = "move"
    public static let remove = "remove"
    public static let setAccess = "set_access"
    public static let created = "created"
    public static let renamed = "renamed"
    public static let moved = "moved"
    public static let removed = "removed"
    public static let accessChanged = "access_changed"

    public init() {}

    public var functions: [FunctionSpec] { [Self.create, Self.rename, Self.move, Self.remove, Self.setAccess].map { FunctionSpec($0) } }

    public var results: [String] { [Self.created, Self.renamed, Self.moved, Self.removed, Self.accessChanged, CommunityFunctions.treeChanged] }

    public func perform(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect {
        guard let node = call.node else {
            guard call.function == Self.create else { throw .notFound("No interactable '\(call.address)'.") }
            return try await self.create(call, context: context)
        }
        return try await self.change(call, on: node, context: context)
    }

    /// A node name (also a group's and the community's): ``TextPolicy/name(_:field:maxLength:)`` with at most 64
    /// code points, and no `/`.
    static func validatedName(_ raw: String, field: String) throws(CommuneError) -> String {
        let name = try TextPolicy.name(raw, field: field, maxLength: 64)
        guard !name.contains("/") else { throw .invalidArgument("\(field) must not contain '/'.") }
        return name
    }

    /// Refuses `name` for a child of `parentID` when another child's name looks like it (UTS #39 skeletons,
    /// case-folded): `Gеneral` with a Cyrillic е beside `General`.
    static func requireDistinct(_ name: String, under parentID: Int64?, excluding excluded: Int64? = nil, path: String, in tree: InteractableTree)
        throws(CommuneError)
    {
        if let other = tree.sibling(lookingLike: name, under: parentID, excluding: excluded) {
            throw .invalidArgument(
                "'\(ChannelAddress(path: path, name: name))' looks like '\(ChannelAddress(path: path, name: other.name))', which exists already; choose a name that is easy to tell apart."
            )
        }
    }

    /// `create {codec}` at `path`/`name`: appended after its siblings.
    func create(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        let request = call.request
        try community.permissions.require(.manageChannels, for: context.member)
        let reader = try call.payload()
        let payloadCodec = try reader.optionalString("codec")
        if let payloadCodec, let addressed = request.codec, payloadCodec != addressed {
            throw .invalidArgument("data.codec '\(addressed)' differs from data.payload.codec '\(payloadCodec)': give the new node's codec once, or the same in both.")
        }
        let codecName = payloadCodec ?? request.codec ?? ""
        guard let codec = community.codecs[codecName] else {
            throw .invalidArgument("data.payload.codec must be one of \(community.codecs.codecNames.sorted().joined(separator: ", ")).")
        }
        let name = try Self.validatedName(request.address.name, field: "data.name")
        let tree = community.tree
        let parentID = try Self.category(at: request.address.path, in: tree, codecs: community.codecs, visibleTo: context.member, community: community)
        guard tree.node(at: ChannelAddress(path: request.address.path, name: name)) == nil else {
            throw .invalidArgument("'\(ChannelAddress(path: request.address.path, name: name))' exists already.")
        }
        try Self.requireDistinct(name, under: parentID, path: request.address.path, in: tree)
        let position = Int64(tree.children(of: parentID).count)
        var properties = try codec.creationProperties(reader, in: community)
        if let access = try ChannelAccessRules.groups(reader, field: "access", community: community) {
            // The new node as it would be open, and as asked: nobody at or above the caller's power who would see
            // it open may be left out.
            let open = Interactable(id: Int64.min, parentID: parentID, name: name, codec: codecName, position: position, properties: properties)
            properties = ChannelAccess.setting(access, in: properties)
            var restricted = open
            restricted.properties = properties
            try ChannelAccessRules.requireNoneHiddenAbove(
                changing: [open.id], before: InteractableTree(Array(tree.nodes.values) + [open]),
                after: InteractableTree(Array(tree.nodes.values) + [restricted]), by: context.member, checker: community.permissions
            )
        }
        do {
            _ = try await community.store.createInteractables([
                NewInteractable(parentID: parentID, name: name, codec: codecName, position: position, properties: properties)
            ])
        } catch {
            throw .internalError("The \(codecName) could not be created.")
        }
        return try await self.changed(Self.created, .create, address: ChannelAddress(path: request.address.path, name: name), codec: codecName, context: context)
    }

    /// `set_access {groups}`: restricts the node (and everything in it) to `groups`, or opens it to everyone with
    /// `null`. Who loses sight of it sees it go (their `tree_changed` leaves it out) and leaves its call.
    func setAccess(_ call: FunctionCall, on node: Interactable, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        let reader = try call.payload()
        guard reader.object["groups"] != nil else { throw .invalidArgument("data.payload.groups is required (an array of group names, or null for everyone).") }
        let groups = try ChannelAccessRules.groups(reader, field: "groups", community: community)
        let tree = community.tree
        var changed = node
        changed.properties = ChannelAccess.setting(groups, in: node.properties)
        var doomed: [Int64] = []
        Self.collect(node.id, in: tree, into: &doomed)
        let after = InteractableTree(tree.nodes.values.map { $0.id == node.id ? changed : $0 })
        try ChannelAccessRules.requireNoneHiddenAbove(changing: doomed, before: tree, after: after, by: context.member, checker: community.permissions)
        try await community.setProperties(changed.properties, of: node)
        let address = call.address
        let described = groups.map { $0.isEmpty ? "the owner only" : "the groups \($0.sorted().map { "'\($0)'" }.joined(separator: ", "))" } ?? "everyone"
        await community.audit(context.member, action: .setAccess, target: "\(address)", "let \(described) see \(node.codec) '\(address)'")
        let access: JSONValue = groups.map { .array($0.sorted().map { .string($0) }) } ?? .null
        return Effect(
            reply: FunctionResult(codec: node.codec, address: address, result: Self.accessChanged, payload: ["access": access]),
            updates: await community.visibilityChanged()
        )
    }

    func change(_ call: FunctionCall, on node: Interactable, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        try community.permissions.require(.manageChannels, for: context.member)
        let reader = try call.payload()
        let tree = community.tree
        let address = tree.address(of: node)
        switch call.function {
        case Self.create:
            throw .invalidArgument("'\(address)' exists already.")

        case Self.rename:
            let newName = try Self.validatedName(try reader.string("new_name"), field: "data.payload.new_name")
            let target = ChannelAddress(path: address.path, name: newName)
            if newName != node.name, tree.node(at: target) != nil {
                throw .invalidArgument("'\(target)' exists already.")
            }
            try Self.requireDistinct(newName, under: node.parentID, excluding: node.id, path: address.path, in: tree)
            var renamed = node
            renamed.name = newName
            try await self.write([renamed], context: context)
            return try await self.changed(Self.renamed, .rename, address: target, from: address, codec: node.codec, context: context)

        case Self.setAccess:
            return try await self.setAccess(call, on: node, context: context)

        case Self.move:
            let parentPath = try reader.optionalString("parent_path") ?? address.path
            let newParent = try Self.category(at: parentPath, in: tree, codecs: community.codecs, visibleTo: context.member, community: community)
            if let newParent, Self.isSelfOrDescendant(newParent, of: node.id, in: tree) {
                throw .invalidArgument("A category cannot move into itself.")
            }
            if newParent != node.parentID, tree.node(at: ChannelAddress(path: parentPath, name: node.name)) != nil {
                throw .invalidArgument("'\(ChannelAddress(path: parentPath, name: node.name))' exists already.")
            }
            if newParent != node.parentID {
                try Self.requireDistinct(node.name, under: newParent, excluding: node.id, path: parentPath, in: tree)
            }
            var siblings = tree.children(of: newParent).filter { $0.id != node.id }
            let checker = community.permissions
            // Positions count the siblings the member sees; hidden ones keep their places around them.
            let seen = siblings.filter { checker.canSee(context.member, $0, in: tree) }
            let requested = try reader.optionalInt("position") ?? Int64(seen.count)
            guard requested >= 0 else { throw .invalidArgument("data.payload.position must be 0 or more.") }
            var moved = node
            moved.parentID = newParent
            if newParent != node.parentID {
                var descendants: [Int64] = []
                Self.collect(node.id, in: tree, into: &descendants)
                let after = InteractableTree(tree.nodes.values.map { $0.id == node.id ? moved : $0 })
                try ChannelAccessRules.requireNoneHiddenAbove(changing: descendants, before: tree, after: after, by: context.member, checker: checker)
            }
            let index = requested < Int64(seen.count) ? siblings.firstIndex { $0.id == seen[Int(requested)].id } ?? siblings.count : siblings.count
            siblings.insert(moved, at: index)
            var changes: [Interactable] = []
            for (index, sibling) in siblings.enumerated() {
                var updated = sibling
                updated.position = Int64(index)
                changes.append(updated)
            }
            // Close the gap left in the old parent.
            if node.parentID != newParent {
                for (index, sibling) in tree.children(of: node.parentID).filter({ $0.id != node.id }).enumerated() {
                    var updated = sibling
                    updated.position = Int64(index)
                    changes.append(updated)
                }
            }
            try await self.write(changes, context: context)
            return try await self.changed(
                Self.moved, .move, address: ChannelAddress(path: parentPath, name: node.name), from: address, codec: node.codec, context: context
            )

        case Self.remove:
            var doomed: [Int64] = []
            Self.collect(node.id, in: tree, into: &doomed)
            let checker = community.permissions
            if doomed.contains(where: { tree.nodes[$0].map { !checker.canSee(context.member, $0, in: tree) } ?? false }) {
                throw .forbidden("'\(address)' holds channels you cannot see; only a member who sees everything in it may remove it.")
            }
            do {
                try await community.store.deleteInteractables(doomed.reversed())
            } catch {
                throw .internalError("'\(address)' could not be removed.")
            }
            var remaining = tree.children(of: node.parentID).filter { $0.id != node.id }
            for index in remaining.indices { remaining[index].position = Int64(index) }
            try await self.write(remaining, context: context)
            var effect = try await self.changed(Self.removed, .remove, address: address, codec: node.codec, context: context)
            for id in doomed {
                guard let gone = tree.nodes[id] else { continue }
                effect.updates += await community.callChannelRemoved(id, address: tree.address(of: gone))
            }
            return effect

        default:
            throw self.unknownFunction(call)
        }
    }

    private func write(_ nodes: [Interactable], context: FunctionContext) async throws(CommuneError) {
        guard !nodes.isEmpty else { return }
        do {
            try await context.community.store.updateInteractables(nodes)
        } catch {
            context.community.logger.error("Changing the channel tree failed: \(error)")
            throw .internalError("The channel tree could not be changed.")
        }
    }

    /// Replies with what changed; every member receives the whole new tree (`tree_changed`). `address` is where the
    /// node is now (where it was, for a removal); `from` where it was before a rename or move.
    private func changed(
        _ result: String, _ action: AuditAction, address: ChannelAddress, from old: ChannelAddress? = nil, codec: String, context: FunctionContext
    ) async throws(CommuneError) -> Effect {
        try await context.community.reloadTree()
        let text = old.map { "\(result) \(codec) '\($0)' to '\(address)'" } ?? "\(result) \(codec) '\(address)'"
        await context.community.audit(context.member, action: action, target: "\(address)", text)
        // A move may change who sees what (into or out of a private category): the trees and calls follow.
        let updates = action == .move ? await context.community.visibilityChanged() : context.community.treeChangedUpdates()
        return Effect(reply: FunctionResult(codec: codec, address: address, result: result, payload: [:]), updates: updates)
    }

    /// The id of the category (a node that holds children) at `path` (`nil` for the top level) that `member` sees
    /// (one they may not see is answered like one that does not exist).
    static func category(
        at path: String, in tree: InteractableTree, codecs: CodecRegistry, visibleTo member: Member, community: Community
    ) throws(CommuneError) -> Int64? {
        guard let address = ChannelAddress(slashed: path) else { return nil }
        guard let node = tree.node(at: address), codecs.holdsChildren(node.codec), community.permissions.canSee(member, node, in: tree) else {
            throw .notFound("No category at path '\(path)'.")
        }
        return node.id
    }

    static func isSelfOrDescendant(_ candidate: Int64, of ancestor: Int64, in tree: InteractableTree) -> Bool {
        var current: Int64? = candidate
        var steps = 0
        while let id = current, steps < 64 {
            if id == ancestor { return true }
            current = tree.nodes[id]?.parentID
            steps += 1
        }
        return false
    }

    static func collect(_ id: Int64, in tree: InteractableTree, into ids: inout [Int64]) {
        ids.append(id)
        for child in tree.children(of: id) { self.collect(child.id, in: tree, into: &ids) }
    }
}

extension String {
    func trimmingWhitespaceAndNewlines() -> String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
