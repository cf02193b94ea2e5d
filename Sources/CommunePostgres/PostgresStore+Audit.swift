import CommuneCore
import CommuneProtocol
import PostgresNIO

/// The audit log, newest first by the order entries were appended (the `id` identity column), not by their clocks:
/// nodes' clocks may differ.
extension PostgresStore: AuditStore {
    public func appendAudit(_ entry: AuditEntry) async throws {
        try await self.execute(
            """
            INSERT INTO audit_log (actor_id, actor_name, action, target, text, time)
            VALUES (\(entry.actorID.value), \(entry.actorName), \(entry.action.rawValue), \(entry.target), \(entry.text), \(entry.time))
            """
        )
    }

    public func auditLog(limit: Int) async throws -> [AuditEntry] {
        try await self.rows(
            "SELECT actor_id, actor_name, action, target, text, time FROM audit_log ORDER BY id DESC LIMIT \(Int64(max(0, limit)))"
        ) { row in
            let (actorID, actorName, action, target, text, time) = try row.decode((String, String, String, String, String, Int64).self)
            return UUIDString(actorID).map {
                AuditEntry(actorID: $0, actorName: actorName, action: AuditAction(rawValue: action), target: target, text: text, time: time)
            }
        }.compactMap { $0 }
    }
}
