import CommuneCore
import CommuneProtocol
import Crypto
import NIOCore
import PostgresNIO

/// The HTTP session tokens, shared by every node through the `sessions` table ("v3-sessions"), so that a token one
/// node handed out at login works on the others.
///
/// A token is kept as its SHA-256, not as itself: whoever reads the database (a backup, a replica) cannot present
/// it. Expired tokens are swept as tokens are issued: each issue deletes at most ``sweepBatch`` of the oldest
/// expired rows through the expiry index, so the table holds no more than the live tokens plus what one burst
/// left, and no issue pays for a whole sweep.
extension PostgresStore: SessionStore {
    /// How many expired tokens one issue deletes at the most (more than one, so that sweeping outpaces issuing).
    static let sweepBatch: Int64 = 16

    public func issue(_ token: String, for member: UUIDString, expiresAt: Int64) async throws {
        let now = UnixTime.nowMilliseconds()
        try await self.execute(
            """
            WITH swept AS (
                DELETE FROM sessions WHERE token_hash IN (
                    SELECT token_hash FROM sessions WHERE expires_at <= \(now) ORDER BY expires_at LIMIT \(Self.sweepBatch)
                    FOR UPDATE SKIP LOCKED
                )
            )
            INSERT INTO sessions (token_hash, member_id, expires_at) VALUES (\(Self.hash(token)), \(member.value), \(expiresAt))
            ON CONFLICT (token_hash) DO UPDATE SET member_id = excluded.member_id, expires_at = excluded.expires_at
            """
        )
    }

    public func member(forToken token: String, now: Int64) async throws -> UUIDString? {
        try await self.rows(
            "SELECT member_id FROM sessions WHERE token_hash = \(Self.hash(token)) AND expires_at > \(now)"
        ) { try $0.decode(String.self) }.first.flatMap(UUIDString.init)
    }

    public func revokeAll(of member: UUIDString) async throws {
        try await self.execute("DELETE FROM sessions WHERE member_id = \(member.value)")
    }

    /// How many tokens the table holds, expired ones included until they are swept (for tests and diagnostics).
    public func sessionCount() async throws -> Int {
        Int(try await self.rows("SELECT count(*) FROM sessions") { try $0.decode(Int64.self) }.first ?? 0)
    }

    private static func hash(_ token: String) -> ByteBuffer {
        ByteBuffer(bytes: SHA256.hash(data: Array(token.utf8)))
    }
}
