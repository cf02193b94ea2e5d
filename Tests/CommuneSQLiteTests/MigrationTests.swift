import CommuneCore
import CommuneProtocol
import Foundation
import GRDB
import Testing

@testable import CommuneSQLite

/// Databases left by an older Commune: each is made with the migrations up to a version, filled the way that
/// version wrote, then opened by ``SQLiteStore``, which runs the rest.
@Suite("SQLite migrations")
struct MigrationTests {
    /// The migration before structured audit entries and bans.
    static let beforeStructuredAudit = "v4-members-messages-attachments"

    /// A data folder holding a database migrated up to `version`, with `fill` run on it.
    func oldDatabase(upTo version: String, fill: @escaping @Sendable (Database) throws -> Void) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        let queue = try DatabaseQueue(path: directory.url.appendingPathComponent(SQLiteStore.fileName).path)
        try SQLiteStore.migrator.migrate(queue, upTo: version)
        try queue.write(fill)
        try queue.close()
        return directory
    }

    @Test("v5: old audit entries keep their text as action 'other' with no target; old bans keep the banner's name, no id")
    func structuredAuditAndBans() async throws {
        let alice = UUIDString.random()
        let troll = UUIDString.random()
        let trollKey = [UInt8](repeating: 7, count: 32)
        let directory = try self.oldDatabase(upTo: Self.beforeStructuredAudit) { db in
            for (text, time) in [("server-muted bob", 10), ("banned troll: spam", 11)] {
                try db.execute(
                    sql: "INSERT INTO audit_log (actor_id, actor_name, action, time) VALUES (?, ?, ?, ?)",
                    arguments: [alice.value, "alice", text, time]
                )
            }
            try db.execute(
                sql: "INSERT INTO bans (user_id, public_key, username, reason, banned_by, time) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [troll.value, Data(trollKey), "troll", "spam", "alice", 11]
            )
        }

        let store = try SQLiteStore(directory: directory.url)
        #expect(
            try await store.auditLog(limit: 10) == [
                AuditEntry(actorID: alice, actorName: "alice", action: .other, target: "", text: "banned troll: spam", time: 11),
                AuditEntry(actorID: alice, actorName: "alice", action: .other, target: "", text: "server-muted bob", time: 10),
            ]
        )
        let oldBan = Ban(userID: troll, publicKey: trollKey, username: "troll", reason: "spam", bannedBy: nil, bannedByName: "alice", time: 11)
        #expect(try await store.bans() == [oldBan])
        // The old ban still holds.
        await #expect(throws: StoreError.banned("This identity is banned from this community.")) {
            try await store.registerMember(
                Member(id: troll, username: "troll", publicKey: trollKey, group: "member", joinedAt: 12), inviteCode: nil, now: 12
            )
        }

        // New entries and bans are written in the new shape beside the old ones, and all survive a reopen.
        let newEntry = AuditEntry(actorID: alice, actorName: "alice", action: .unban, target: troll.value, text: "unbanned \(troll)", time: 12)
        try await store.appendAudit(newEntry)
        let spammer = try await store.registerMember(
            Member(id: .random(), username: "spammer", publicKey: [UInt8](repeating: 8, count: 32), group: "member", joinedAt: 12),
            inviteCode: nil, now: 12
        )
        let newBan = Ban(
            userID: spammer.id, publicKey: spammer.publicKey, username: "spammer", reason: "", bannedBy: alice, bannedByName: "alice", time: 13
        )
        _ = try await store.removeMember(spammer.id, ban: newBan, vengeance: false)
        let reopened = try SQLiteStore(directory: directory.url)
        #expect(try await reopened.auditLog(limit: 10).map(\.action) == [.unban, .other, .other])
        #expect(try await reopened.auditLog(limit: 1) == [newEntry])
        #expect(try await reopened.bans() == [newBan, oldBan])
    }
}
