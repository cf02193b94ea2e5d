/// Private channels: which groups may see a category or channel, kept in the node's `properties`.
///
/// A node with an `access` property is **restricted** to the groups it lists; a node without one is open to every
/// member. A category's restriction applies to everything in it, so a node is visible to a member when every
/// restricted node on its path (itself included) lists the member's group, and that group exists. The `owner` group
/// sees everything. Group names never hold a line break (``TextPolicy`` refuses control characters in names), so the
/// list is stored one name a line.
public enum ChannelAccess {
    /// The property that holds the allowed groups.
    public static let propertyKey = "access"
    /// The most groups one node may list.
    public static let maxGroups = 32

    /// The groups `properties` restrict a node to, or `nil` when it is open to everyone.
    public static func groups(in properties: [String: String]) -> Set<String>? {
        guard let stored = properties[Self.propertyKey] else { return nil }
        return Set(stored.split(separator: "\n", omittingEmptySubsequences: true).map(String.init))
    }

    /// `properties` restricted to `groups` (`nil`: open to everyone).
    public static func setting(_ groups: Set<String>?, in properties: [String: String]) -> [String: String] {
        var properties = properties
        properties[Self.propertyKey] = groups.map { $0.sorted().joined(separator: "\n") }
        return properties
    }

    /// The restriction of every node, folded down the tree: for each node under at least one restricted node, the
    /// groups allowed by all of them (the intersection along its path).
    static func effective(_ nodes: [Int64: Interactable]) -> [Int64: Set<String>] {
        var result: [Int64: Set<String>] = [:]
        for id in nodes.keys {
            var allowed: Set<String>?
            var current: Int64? = id
            var steps = 0
            // Bounded: a path is never deeper than the tree has nodes (and the store keeps it acyclic).
            while let nodeID = current, let node = nodes[nodeID], steps <= nodes.count {
                if let groups = Self.groups(in: node.properties) {
                    allowed = allowed.map { $0.intersection(groups) } ?? groups
                }
                current = node.parentID
                steps += 1
            }
            if let allowed { result[id] = allowed }
        }
        return result
    }
}
