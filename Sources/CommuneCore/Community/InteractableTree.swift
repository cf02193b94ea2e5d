import CommuneProtocol

/// The community's tree of interactables in memory, indexed by address.
///
/// Rebuilt from the store's flat rows whenever the structure changes; looked up on every function call.
public struct InteractableTree: Sendable {
    public private(set) var nodes: [Int64: Interactable]
    private var byAddress: [ChannelAddress: Int64]
    private var childrenByParent: [Int64?: [Int64]]
    /// Each node below a restricted node (``ChannelAccess``), with the groups that may see it.
    private var restricted: [Int64: Set<String>]

    public init(_ records: [Interactable]) {
        let nodes = Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0) })
        var children = Dictionary(grouping: records.map(\.id), by: { nodes[$0]!.parentID })
        for key in children.keys {
            children[key]!.sort { (nodes[$0]!.position, nodes[$0]!.name) < (nodes[$1]!.position, nodes[$1]!.name) }
        }
        self.nodes = nodes
        self.childrenByParent = children
        self.byAddress = [:]
        self.restricted = ChannelAccess.effective(nodes)
        for record in records {
            self.byAddress[self.address(of: record)] = record.id
        }
    }

    public var isEmpty: Bool { self.nodes.isEmpty }

    /// The node at `address`, if any.
    public func node(at address: ChannelAddress) -> Interactable? {
        self.byAddress[address].flatMap { self.nodes[$0] }
    }

    /// A child of `parentID` (top level for `nil`) other than `excluded` whose name looks like `name`
    /// (``TextPolicy/areConfusable(_:_:)``), if any.
    public func sibling(lookingLike name: String, under parentID: Int64?, excluding excluded: Int64? = nil) -> Interactable? {
        let keys = TextPolicy.lookalikeKeys(name)
        return self.children(of: parentID).first { $0.id != excluded && !keys.isDisjoint(with: TextPolicy.lookalikeKeys($0.name)) }
    }

    /// The groups that may see the node with `id` (its own restriction and its categories' together), or `nil` when
    /// every member may.
    public func access(of id: Int64) -> Set<String>? {
        self.restricted[id]
    }

    /// Whether any node is restricted to some groups.
    public var hasRestrictions: Bool { !self.restricted.isEmpty }

    /// The path of categories above `record`, joined by `/`.
    public func address(of record: Interactable) -> ChannelAddress {
        var components: [String] = []
        var parent = record.parentID
        var guardCount = 0
        while let id = parent, let node = self.nodes[id], guardCount < 64 {
            components.append(node.name)
            parent = node.parentID
            guardCount += 1
        }
        return ChannelAddress(path: components.reversed().joined(separator: "/"), name: record.name)
    }

    /// The children of `parentID` (top level for `nil`), in position order.
    public func children(of parentID: Int64?) -> [Interactable] {
        (self.childrenByParent[parentID] ?? []).compactMap { self.nodes[$0] }
    }

    /// The children of `parentID` that `visible` keeps, in position order.
    public func children(of parentID: Int64?, visible: (Interactable) -> Bool) -> [Interactable] {
        self.children(of: parentID).filter(visible)
    }

    /// The wire form of the nodes `visible` keeps (a hidden category hides everything in it), with each node's codec
    /// data filled by `data`, and the children of nodes whose codec `holdsChildren`. Positions are counted among the
    /// visible siblings (0, 1, 2, … without gaps where hidden nodes stand), as their viewer sees them.
    public func wireNodes(
        parentID: Int64? = nil, holdsChildren: (String) -> Bool, visible: (Interactable) -> Bool = { _ in true },
        data: (Interactable) -> [String: JSONValue]
    ) -> [InteractableNode] {
        self.children(of: parentID, visible: visible).enumerated().map { index, record in
            let container = holdsChildren(record.codec)
            return InteractableNode(
                name: record.name,
                codec: record.codec,
                position: Int64(index),
                data: container ? [:] : data(record),
                children: container
                    ? self.wireNodes(parentID: record.id, holdsChildren: holdsChildren, visible: visible, data: data) : [],
                access: ChannelAccess.groups(in: record.properties).map { $0.sorted() }
            )
        }
    }
}
