/// One node of a community's tree of interactables, as `identification_response` sends it.
///
/// On the wire the tree keeps the seed's shape: an object keyed by name, each node `{codec, position, data}`, a
/// `category`'s `data` holding its children keyed by name. JSON objects have no order, so every node carries its
/// `position` among its siblings; ``decodeTree(_:)`` sorts by it.
public struct InteractableNode: Sendable, Hashable {
    public var name: String
    public var codec: String
    public var position: Int64
    /// Codec-specific data (a text channel's `{}`, a voice channel's `{"active_users": {}}`); empty for categories.
    public var data: [String: JSONValue]
    /// Children, in `position` order; only categories have them.
    public var children: [InteractableNode]
    /// The groups this node is restricted to (a private channel or category), sorted; `nil` when every member may
    /// see it. Set on the node itself, not inherited from its categories.
    public var access: [String]?

    public init(
        name: String, codec: String, position: Int64, data: [String: JSONValue] = [:], children: [InteractableNode] = [],
        access: [String]? = nil
    ) {
        self.name = name
        self.codec = codec
        self.position = position
        self.data = data
        self.children = children
        self.access = access
    }

    public var json: JSONValue {
        var data = self.data
        if self.codec == Self.categoryCodec {
            for child in self.children { data[child.name] = child.json }
        }
        var node: [String: JSONValue] = ["codec": .string(self.codec), "position": .int(self.position), "data": .object(data)]
        if let access = self.access { node["access"] = .array(access.map { .string($0) }) }
        return .object(node)
    }

    public static func encodeTree(_ nodes: [InteractableNode]) -> JSONValue {
        .object(Dictionary(nodes.map { ($0.name, $0.json) }, uniquingKeysWith: { first, _ in first }))
    }

    public static func decodeTree(_ value: JSONValue) throws(CommuneError) -> [InteractableNode] {
        guard case .object(let entries) = value else {
            throw .invalidArgument("interactables must be an object, not \(value.typeName).")
        }
        var nodes: [InteractableNode] = []
        for (name, entry) in entries {
            let reader = try PayloadReader(entry, context: "interactables.\(name)")
            let codec = try reader.string("codec")
            let position = try reader.optionalInt("position") ?? 0
            var data = try reader.object("data").object
            var children: [InteractableNode] = []
            if codec == Self.categoryCodec {
                children = try self.decodeTree(.object(data))
                data = [:]
            }
            var access: [String]?
            if let list = reader.object["access"], list != .null {
                guard let items = list.arrayValue else {
                    throw .invalidArgument("interactables.\(name).access must be an array, not \(list.typeName).")
                }
                access = try items.map { item throws(CommuneError) -> String in
                    guard let group = item.stringValue else {
                        throw .invalidArgument("interactables.\(name).access must hold group names.")
                    }
                    return group
                }
            }
            nodes.append(InteractableNode(name: name, codec: codec, position: position, data: data, children: children, access: access))
        }
        return nodes.sorted { ($0.position, $0.name) < ($1.position, $1.name) }
    }

    /// Walks the tree depth-first, giving each node with the path of the categories above it (`"A/B"`, or `""`).
    public static func walk(_ nodes: [InteractableNode], path: String = "", _ visit: (String, InteractableNode) -> Void) {
        for node in nodes {
            visit(path, node)
            if !node.children.isEmpty {
                self.walk(node.children, path: path.isEmpty ? node.name : "\(path)/\(node.name)", visit)
            }
        }
    }
}
