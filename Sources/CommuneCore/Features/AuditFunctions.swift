import CommuneProtocol

/// The audit log: who changed what (`get_audit_log {amount?}`, with `manage_community`). Each entry is
/// `{actor_id, actor_name, action, target, text, time}`: ``AuditEntry`` on the wire.
struct AuditFunctions: Capability {
    var functions: [FunctionSpec] { [FunctionSpec(CommunityFunctions.getAuditLog)] }

    var results: [String] { [CommunityFunctions.auditLog] }

    func perform(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect {
        try context.community.permissions.require(.manageCommunity, for: context.member)
        let limit = try call.payload().optionalInt("amount") ?? 100
        guard (1...1000).contains(limit) else { throw .invalidArgument("data.payload.amount must be between 1 and 1000.") }
        let entries: [AuditEntry]
        do { entries = try await context.community.store.auditLog(limit: Int(limit)) } catch { throw .internalError("The audit log could not be read.") }
        let list: [JSONValue] = entries.map { entry in
            [
                "actor_id": .string(entry.actorID.value), "actor_name": .string(entry.actorName), "action": .string(entry.action.rawValue),
                "target": .string(entry.target), "text": .string(entry.text), "time": .int(entry.time),
            ]
        }
        return .reply(CommunityFunctions.result(CommunityFunctions.auditLog, ["entries": .array(list)]))
    }
}
