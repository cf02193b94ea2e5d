import CommuneProtocol

/// The audit log: who changed what, when.
public protocol AuditStore: Sendable {
    /// Appends an entry to the audit log.
    func appendAudit(_ entry: AuditEntry) async throws
    /// The newest audit entries, newest first.
    func auditLog(limit: Int) async throws -> [AuditEntry]
}

/// One line of the audit log: who changed what, when.
public struct AuditEntry: Sendable, Hashable {
    public var actorID: UUIDString
    public var actorName: String
    public var action: String
    /// Unix milliseconds.
    public var time: Int64

    public init(actorID: UUIDString, actorName: String, action: String, time: Int64) {
        self.actorID = actorID
        self.actorName = actorName
        self.action = action
        self.time = time
    }
}
