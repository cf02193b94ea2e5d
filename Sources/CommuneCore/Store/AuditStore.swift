import CommuneProtocol

/// The audit log: who changed what, when.
public protocol AuditStore: Sendable {
    /// Appends an entry to the audit log.
    func appendAudit(_ entry: AuditEntry) async throws
    /// The newest audit entries, newest first.
    func auditLog(limit: Int) async throws -> [AuditEntry]
}

/// One line of the audit log: who did what to what, when, and the same as a sentence.
public struct AuditEntry: Sendable, Hashable {
    public var actorID: UUIDString
    /// The actor's username at the time.
    public var actorName: String
    /// What was done, as a stable word (``AuditAction/other`` for entries older than the words).
    public var action: AuditAction
    /// What it was done to: a user id, a channel's `path/name`, a group's name, an invite code's first 6
    /// characters; `""` for none (``AuditAction`` says which for each word).
    public var target: String
    /// The change as a sentence for people, after the actor's name: "server-muted bob".
    public var text: String
    /// Unix milliseconds.
    public var time: Int64

    public init(actorID: UUIDString, actorName: String, action: AuditAction, target: String, text: String, time: Int64) {
        self.actorID = actorID
        self.actorName = actorName
        self.action = action
        self.target = target
        self.text = text
        self.time = time
    }
}
