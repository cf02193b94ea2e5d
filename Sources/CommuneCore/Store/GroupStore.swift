import CommuneProtocol

/// Groups with their permissions and power levels.
public protocol GroupStore: Sendable {
    /// Groups with their permissions and power levels (a new store holds ``Group/defaults``).
    func groups() async throws -> [Group]
    /// Creates or replaces a group.
    func saveGroup(_ group: Group) async throws
    func deleteGroup(_ name: String) async throws
}
