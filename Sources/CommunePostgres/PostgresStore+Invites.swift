import CommuneCore
import CommuneProtocol
import PostgresNIO

/// Invites, listed by creation time, then code, as every store lists them (the `position` identity column keeps the
/// order rows were written in, which a copied database does not share).
extension PostgresStore: InviteStore {
    public func createInvite(_ invite: Invite) async throws {
        try await self.execute(
            """
            INSERT INTO invites (code, group_name, uses_left, expires_at, created_at, revoked)
            VALUES (\(invite.code), \(invite.group), \(invite.usesLeft), \(invite.expiresAt), \(invite.createdAt), \(invite.revoked))
            """
        )
    }

    public func invites() async throws -> [Invite] {
        try await self.rows(
            "SELECT code, group_name, uses_left, expires_at, created_at, revoked FROM invites ORDER BY created_at, code", Self.invite
        )
    }

    public func revokeInvite(_ code: String) async throws -> Bool {
        try await !self.rows("UPDATE invites SET revoked = true WHERE code = \(code) RETURNING code") { try $0.decode(String.self) }.isEmpty
    }

    /// An invite from a row of `code, group_name, uses_left, expires_at, created_at, revoked`.
    static func invite(_ row: PostgresRow) throws -> Invite {
        let (code, group, usesLeft, expiresAt, createdAt, revoked) = try row.decode((String, String, Int64, Int64?, Int64, Bool).self)
        return Invite(code: code, group: group, usesLeft: usesLeft, expiresAt: expiresAt, createdAt: createdAt, revoked: revoked)
    }
}
