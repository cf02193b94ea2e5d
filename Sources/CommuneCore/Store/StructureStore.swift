import CommuneProtocol

/// The tree of interactables: categories and channels with their codec properties.
public protocol StructureStore: Sendable {
    func interactables() async throws -> [Interactable]
    /// Creates the nodes in one transaction, in order; a node's `parentID` may name an earlier node's id only after
    /// it was created, so callers create one level at a time.
    func createInteractables(_ nodes: [NewInteractable]) async throws -> [Interactable]
    /// Replaces a node's codec properties (topic, link target).
    func setProperties(_ properties: [String: String], of interactable: Int64) async throws
    /// Writes the name, parent and position of each node, in one transaction.
    func updateInteractables(_ nodes: [Interactable]) async throws
    /// Deletes the nodes and the messages of those that are channels, in one transaction.
    func deleteInteractables(_ ids: [Int64]) async throws
}
