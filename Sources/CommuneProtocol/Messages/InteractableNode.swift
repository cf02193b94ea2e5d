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

    public init(name: String, codec: String, position: Int64, data: [String: JSONValue] = [:], children: [InteractableNode] = []) {
        self.name = name
        self.codec = codec
        self.position = position
        self.data = data
        self.children = children
    }

    public var json: JSONValue {
        var data = self.data
        if self.codec == Self.categoryCodec {
            for child in self.children { data[child.name] = child.json }
        }
        return ["codec": .string(self.codec), "position": .int(self.position), "data": .object(data)]
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
            nodes.append(InteractableNode(name: name, codec: codec, position: position, data: data, children: children))
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
