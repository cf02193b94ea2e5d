import CommuneCore
import CommuneProtocol
import NIOCore
import PostgresNIO

/// Members and bans.
///
/// Registrations and bans take one advisory lock for their transaction (``registrationLock``), so that across every
/// node they happen one at a time as on SQLite's single writer: a one-use invite admits one member, and a key being
/// banned cannot slip in beside its ban, whatever the spelling of the key.
extension PostgresStore: MemberStore {
    /// The advisory lock held by registrations and bans ("communf" in ASCII, beside the migrations' "commune").
    static let registrationLock: Int64 = 0x636f_6d6d_756e_66

    public func members() async throws -> [Member] {
        try await self.rows(
            "SELECT user_id, username, public_key, group_name, joined_at, status, status_text, suppressed FROM members ORDER BY joined_at, user_id",
            Self.member
        ).compactMap { $0 }
    }

    public func member(_ id: UUIDString) async throws -> Member? {
        try await self.rows(
            "SELECT user_id, username, public_key, group_name, joined_at, status, status_text, suppressed FROM members WHERE user_id = \(id.value)",
            Self.member
        ).compactMap { $0 }.first
    }

    /// A member from a row of `user_id, username, public_key, group_name, joined_at, status, status_text, suppressed`.
    private static func member(_ row: PostgresRow) throws -> Member? {
        let (id, username, key, group, joinedAt, status, statusText, suppressed) =
            try row.decode((String, String, ByteBuffer, String, Int64, String, String, Bool).self)
        guard let id = UUIDString(id) else { return nil }
        var member = Member(id: id, username: username, publicKey: Array(key.readableBytesView), group: group, joinedAt: joinedAt)
        member.status = MemberStatus(rawValue: status) ?? .online
        member.statusText = statusText
        member.suppressed = suppressed
        return member
    }

    public func registerMember(_ member: Member, inviteCode: String?, now: Int64) async throws -> Member {
        do {
            return try await self.transaction { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.registrationLock))", logger: self.logger)
                var invite: Invite?
                if let inviteCode {
                    invite = try await Self.rows(
                        "SELECT code, group_name, uses_left, expires_at, created_at, revoked FROM invites WHERE code = \(inviteCode) FOR UPDATE",
                        on: connection, logger: self.logger, Self.invite
                    ).first
                    guard let invite else { throw StoreError.inviteInvalid("This invite is not known here.") }
                    if let refusal = invite.refusal(now: now) { throw StoreError.inviteInvalid(refusal) }
                }
                // A key matches in any of its spellings (a row written before keys were stored canonical may hold another).
                let keys = X25519Key.encodings(of: member.publicKey).map { ByteBuffer(bytes: $0) }
                let (banned, taken) = try await Self.rows(
                    """
                    SELECT EXISTS (SELECT 1 FROM bans WHERE user_id = \(member.id.value) OR public_key = ANY(\(keys))),
                           EXISTS (SELECT 1 FROM members WHERE user_id = \(member.id.value) OR public_key = ANY(\(keys)))
                    """,
                    on: connection, logger: self.logger
                ) { try $0.decode((Bool, Bool).self) }[0]
                if banned { throw StoreError.banned("This identity is banned from this community.") }
                if taken { throw Self.alreadyRegistered }
                var stored = member
                if let invite {
                    try await connection.query("UPDATE invites SET uses_left = uses_left - 1 WHERE code = \(invite.code)", logger: self.logger)
                    stored.group = invite.group
                }
                try await connection.query(
                    """
                    INSERT INTO members (user_id, username, public_key, group_name, joined_at)
                    VALUES (\(stored.id.value), \(stored.username), \(ByteBuffer(bytes: stored.publicKey)), \(stored.group), \(stored.joinedAt))
                    """,
                    logger: self.logger
                )
                return stored
            }
        } catch where Self.sqlState(of: error) == SQLState.uniqueViolation {
            // Not expected under the lock; a key or id taken all the same is the same refusal.
            throw Self.alreadyRegistered
        }
    }

    private static let alreadyRegistered = StoreError.alreadyRegistered("This user id or public key is already a member of this community.")

    public func updateMember(_ member: Member) async throws {
        try await self.execute(
            """
            UPDATE members SET username = \(member.username), group_name = \(member.group), status = \(member.status.rawValue),
                status_text = \(member.statusText), suppressed = \(member.suppressed)
            WHERE user_id = \(member.id.value)
            """
        )
    }

    /// Also forgets the member's reactions (they no longer count anywhere), as the other stores do; with
    /// `vengeance` their messages' mentions leave the mentions index with the masked text.
    public func removeMember(_ id: UUIDString, ban: Ban?, vengeance: Bool) async throws -> [String] {
        try await self.transaction { connection in
            if ban != nil {
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.registrationLock))", logger: self.logger)
            }
            try await connection.query("DELETE FROM members WHERE user_id = \(id.value)", logger: self.logger)
            try await connection.query("DELETE FROM reactions WHERE user_id = \(id.value)", logger: self.logger)
            // Their home goes with them.
            try await connection.query("DELETE FROM home_entries WHERE member_id = \(id.value)", logger: self.logger)
            if let ban {
                // A ban replaces any earlier one of the same id or key (SQLite's INSERT OR REPLACE).
                let key = ByteBuffer(bytes: ban.publicKey)
                try await connection.query("DELETE FROM bans WHERE user_id = \(ban.userID.value) OR public_key = \(key)", logger: self.logger)
                try await connection.query(
                    """
                    INSERT INTO bans (user_id, public_key, username, reason, banned_by, banned_by_name, time)
                    VALUES (\(ban.userID.value), \(key), \(ban.username), \(ban.reason), \(ban.bannedBy?.value), \(ban.bannedByName), \(ban.time))
                    """,
                    logger: self.logger
                )
            }
            guard vengeance else { return [] }
            try await connection.query(
                """
                DELETE FROM mentions WHERE (channel_id, message_id) IN (SELECT channel_id, message_id FROM messages WHERE sender_id = \(id.value))
                """,
                logger: self.logger
            )
            try await connection.query(
                """
                UPDATE messages SET body = \(TextFunction.removedText), sender_id = NULL, attachments = '', mentions = '',
                    mentions_everyone = false, edited = false
                WHERE sender_id = \(id.value)
                """,
                logger: self.logger
            )
            return try await Self.rows(
                "DELETE FROM attachments WHERE uploader = \(id.value) RETURNING id", on: connection, logger: self.logger
            ) { try $0.decode(String.self) }.sorted()
        }
    }

    public func bans() async throws -> [Ban] {
        try await self.rows(
            "SELECT user_id, public_key, username, reason, banned_by, banned_by_name, time FROM bans ORDER BY time DESC, user_id"
        ) { row in
            let (id, key, username, reason, bannedBy, bannedByName, time) =
                try row.decode((String, ByteBuffer, String, String, String?, String, Int64).self)
            guard let id = UUIDString(id) else { return nil }
            return Ban(
                userID: id, publicKey: Array(key.readableBytesView), username: username, reason: reason,
                bannedBy: bannedBy.flatMap(UUIDString.init), bannedByName: bannedByName, time: time
            )
        }.compactMap { $0 }
    }

    public func unban(_ id: UUIDString) async throws -> Bool {
        try await !self.rows("DELETE FROM bans WHERE user_id = \(id.value) RETURNING user_id") { try $0.decode(String.self) }.isEmpty
    }
}
