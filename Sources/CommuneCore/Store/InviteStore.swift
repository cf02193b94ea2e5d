import CommuneProtocol

/// Invites, each tied to a group.
public protocol InviteStore: Sendable {
    func createInvite(_ invite: Invite) async throws
    /// Every invite, by creation time (`createdAt`), then code: the same order on every store.
    func invites() async throws -> [Invite]
    /// Marks an invite revoked; `false` if there is no such invite.
    func revokeInvite(_ code: String) async throws -> Bool
}
