import CommuneCore
import CommuneProtocol
import Foundation
import GRDB

/// The audit log.
extension SQLiteStore {
    public func appendAudit(_ entry: AuditEntry) async throws {
        try await self.pool.write { db in
            try db.execute(
                sql: "INSERT INTO audit_log (actor_id, actor_name, action, target, text, time) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [entry.actorID.value, entry.actorName, entry.action.rawValue, entry.target, entry.text, entry.time]
            )
        }
    }

    public func auditLog(limit: Int) async throws -> [AuditEntry] {
        try await self.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT actor_id, actor_name, action, target, text, time FROM audit_log ORDER BY id DESC LIMIT ?",
                arguments: [limit]
            ).compactMap { row in
                guard let id = UUIDString(row["actor_id"]) else { return nil }
                return AuditEntry(
                    actorID: id, actorName: row["actor_name"], action: AuditAction(rawValue: row["action"]), target: row["target"],
                    text: row["text"], time: row["time"]
                )
            }
        }
    }
}
