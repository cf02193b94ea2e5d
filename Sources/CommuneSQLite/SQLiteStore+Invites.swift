import CommuneCore
import CommuneProtocol
import Foundation
import GRDB

/// Invites.
extension SQLiteStore {
    public func createInvite(_ invite: Invite) async throws {
        try await self.pool.write { db in
            try db.execute(
                sql: "INSERT INTO invites (code, group_name, uses_left, expires_at, created_at, revoked) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [invite.code, invite.group, invite.usesLeft, invite.expiresAt, invite.createdAt, invite.revoked]
            )
        }
    }

    public func invites() async throws -> [Invite] {
        try await self.pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT code, group_name, uses_left, expires_at, created_at, revoked FROM invites ORDER BY created_at, code"
            ).map(Self.invite)
        }
    }

    public func revokeInvite(_ code: String) async throws -> Bool {
        try await self.pool.write { db in
            try db.execute(sql: "UPDATE invites SET revoked = 1 WHERE code = ?", arguments: [code])
            return db.changesCount > 0
        }
    }

    static func invite(_ row: Row) -> Invite {
        Invite(
            code: row["code"], group: row["group_name"], usesLeft: row["uses_left"], expiresAt: row["expires_at"],
            createdAt: row["created_at"], revoked: row["revoked"]
        )
    }
}
