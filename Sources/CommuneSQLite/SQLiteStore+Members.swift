import CommuneCore
import CommuneProtocol
import Foundation
import GRDB

/// Members and bans.
extension SQLiteStore {
    public func members() async throws -> [Member] {
        try await self.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.memberColumns) FROM members").compactMap(Self.member)
        }
    }

    public func member(_ id: UUIDString) async throws -> Member? {
        try await self.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.memberColumns) FROM members WHERE user_id = ?", arguments: [id.value]).flatMap(Self.member)
        }
    }

    /// The columns ``member(_:)-swift.type.method`` reads.
    private static let memberColumns = "user_id, username, public_key, group_name, joined_at, status, status_text, suppressed"

    private static func member(_ row: Row) -> Member? {
        guard let id = UUIDString(row["user_id"]) else { return nil }
        let key: Data = row["public_key"]
        var member = Member(id: id, username: row["username"], publicKey: Array(key), group: row["group_name"], joinedAt: row["joined_at"])
        member.status = MemberStatus(rawValue: row["status"]) ?? .online
        member.statusText = row["status_text"]
        member.suppressed = row["suppressed"]
        return member
    }

    public func registerMember(_ member: Member, inviteCode: String?, now: Int64) async throws -> Member {
        try await Self.mappingFullDisk { try await self.pool.write { db in
            var invite: Invite?
            if let inviteCode {
                // Cached statements: a burst of registrations compiles each of these once, not once per member.
                guard let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT code, group_name, uses_left, expires_at, created_at, revoked FROM invites WHERE code = ?"),
                    arguments: [inviteCode]
                ) else {
                    throw StoreError.inviteInvalid("This invite is not known here.")
                }
                invite = Self.invite(row)
                if let refusal = invite?.refusal(now: now) {
                    throw StoreError.inviteInvalid(refusal)
                }
            }
            // A key matches in any of its spellings (a row written before keys were stored canonical may hold another).
            let keys = X25519Key.encodings(of: member.publicKey).map { Data($0) }
            let keyList = Array(repeating: "?", count: keys.count).joined(separator: ", ")
            let arguments = StatementArguments([member.id.value]) + StatementArguments(keys)
            let banned = try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM bans WHERE user_id = ? OR public_key IN (\(keyList)))"), arguments: arguments
            ) ?? false
            if banned {
                throw StoreError.banned("This identity is banned from this community.")
            }
            let taken = try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM members WHERE user_id = ? OR public_key IN (\(keyList)))"), arguments: arguments
            ) ?? false
            if taken {
                throw StoreError.alreadyRegistered("This user id or public key is already a member of this community.")
            }
            var stored = member
            if let invite {
                try db.cachedStatement(sql: "UPDATE invites SET uses_left = uses_left - 1 WHERE code = ?").execute(arguments: [invite.code])
                stored.group = invite.group
            }
            try db.cachedStatement(sql: "INSERT INTO members (user_id, username, public_key, group_name, joined_at) VALUES (?, ?, ?, ?, ?)")
                .execute(arguments: [stored.id.value, stored.username, Data(stored.publicKey), stored.group, stored.joinedAt])
            return stored
        } }
    }

    public func updateMember(_ member: Member) async throws {
        try await self.pool.write { db in
            try db.execute(
                sql: "UPDATE members SET username = ?, group_name = ?, status = ?, status_text = ?, suppressed = ? WHERE user_id = ?",
                arguments: [member.username, member.group, member.status.rawValue, member.statusText, member.suppressed, member.id.value]
            )
        }
    }

    public func removeMember(_ id: UUIDString, ban: Ban?, vengeance: Bool) async throws -> [String] {
        try await self.pool.write { db in
            try db.execute(sql: "DELETE FROM members WHERE user_id = ?", arguments: [id.value])
            // A member who is gone no longer counts in any reaction (a scan of the reactions: removals are rare).
            try db.execute(sql: "DELETE FROM reactions WHERE user_id = ?", arguments: [id.value])
            // Their home goes with them.
            try db.execute(sql: "DELETE FROM home_entries WHERE member_id = ?", arguments: [id.value])
            if let ban {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO bans (user_id, public_key, username, reason, banned_by, banned_by_name, time)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [ban.userID.value, Data(ban.publicKey), ban.username, ban.reason, ban.bannedBy?.value, ban.bannedByName, ban.time]
                )
            }
            guard vengeance else { return [] }
            // The masked messages mention nobody: their rows leave the mentions index, as on the other stores.
            try db.execute(
                sql: "DELETE FROM mentions WHERE (channel_id, message_id) IN (SELECT channel_id, message_id FROM messages WHERE sender_id = ?)",
                arguments: [id.value]
            )
            try db.execute(
                sql: "UPDATE messages SET body = ?, sender_id = NULL, attachments = '', mentions = '', mentions_everyone = 0, edited = 0 WHERE sender_id = ?",
                arguments: [TextFunction.removedText, id.value]
            )
            let uploads = try String.fetchAll(db, sql: "SELECT id FROM attachments WHERE uploader = ?", arguments: [id.value])
            try db.execute(sql: "DELETE FROM attachments WHERE uploader = ?", arguments: [id.value])
            return uploads
        }
    }

    public func bans() async throws -> [Ban] {
        try await self.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT user_id, public_key, username, reason, banned_by, banned_by_name, time FROM bans ORDER BY time DESC"
            ).compactMap { row in
                guard let id = UUIDString(row["user_id"]) else { return nil }
                let key: Data = row["public_key"]
                let bannedBy: String? = row["banned_by"]
                return Ban(
                    userID: id, publicKey: Array(key), username: row["username"], reason: row["reason"],
                    bannedBy: bannedBy.flatMap(UUIDString.init), bannedByName: row["banned_by_name"], time: row["time"]
                )
            }
        }
    }

    public func unban(_ id: UUIDString) async throws -> Bool {
        try await self.pool.write { db in
            try db.execute(sql: "DELETE FROM bans WHERE user_id = ?", arguments: [id.value])
            return db.changesCount > 0
        }
    }
}
