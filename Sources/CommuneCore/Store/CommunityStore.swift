import CommuneProtocol

/// What a community needs from durable storage.
///
/// Implemented by `SQLiteStore` (embedded, zero configuration) and later by a PostgreSQL store for clusters. Every
/// method either completes its whole effect or none of it. Methods that fail for a reason the client should hear
/// about throw ``StoreError``; anything else is reported to the client as `internal_error`.
public protocol CommunityStore: Sendable {
    /// All settings (community key, name, public URL, …).
    func settings() async throws -> [String: String]
    /// Sets a setting only if it has no value yet; returns the value it has afterwards.
    func setSettingIfAbsent(_ key: String, _ value: String) async throws -> String
    func setSetting(_ key: String, _ value: String) async throws

    func interactables() async throws -> [Interactable]
    /// Creates the nodes in one transaction, in order; a node's `parentID` may name an earlier node's id only after
    /// it was created, so callers create one level at a time.
    func createInteractables(_ nodes: [NewInteractable]) async throws -> [Interactable]

    func members() async throws -> [Member]
    /// Consumes one use of the invite and adds the member, atomically. A `nil` invite registers into the
    /// member's own group (a public community's open door).
    ///
    /// - Throws: ``StoreError/inviteInvalid(_:)`` when the invite cannot be used at `now`,
    ///   ``StoreError/alreadyRegistered`` when the id or the key is taken, ``StoreError/banned`` when either is
    ///   banned; in each case nothing changes.
    /// - Returns: the member as stored, with the invite's group.
    func registerMember(_ member: Member, inviteCode: String?, now: Int64) async throws -> Member
    /// Writes a member's username, group, status and mute.
    func updateMember(_ member: Member) async throws
    /// Deletes the member (their key can no longer log in) and, in the same transaction, records `ban` and, with
    /// `vengeance`, masks every message they sent and forgets their uploads.
    /// - Returns: the ids of the member's attachments that were forgotten (their files can go).
    func removeMember(_ id: UUIDString, ban: Ban?, vengeance: Bool) async throws -> [String]
    func bans() async throws -> [Ban]
    /// Lifts a ban; `false` if there was none.
    func unban(_ id: UUIDString) async throws -> Bool

    /// Records an uploaded attachment (its bytes are kept by an ``AttachmentFiles``).
    func createAttachment(_ attachment: AttachmentInfo, uploader: UUIDString, now: Int64) async throws
    /// An attachment and who uploaded it, if it exists.
    func attachment(_ id: String) async throws -> (info: AttachmentInfo, uploader: UUIDString)?

    func createInvite(_ invite: Invite) async throws
    func invites() async throws -> [Invite]
    /// Marks an invite revoked; `false` if there is no such invite.
    func revokeInvite(_ code: String) async throws -> Bool

    /// Groups with their permissions and power levels (a new store holds ``Group/defaults``).
    func groups() async throws -> [Group]
    /// Creates or replaces a group.
    func saveGroup(_ group: Group) async throws
    func deleteGroup(_ name: String) async throws

    /// Replaces a node's codec properties (topic, link target).
    func setProperties(_ properties: [String: String], of interactable: Int64) async throws
    /// Writes the name, parent and position of each node, in one transaction.
    func updateInteractables(_ nodes: [Interactable]) async throws
    /// Deletes the nodes and the messages of those that are channels, in one transaction.
    func deleteInteractables(_ ids: [Int64]) async throws

    /// Appends an entry to the audit log.
    func appendAudit(_ entry: AuditEntry) async throws
    /// The newest audit entries, newest first.
    func auditLog(limit: Int) async throws -> [AuditEntry]

    /// One message, if it exists.
    func message(channelID: Int64, messageID: Int64) async throws -> StoredMessage?
    /// Replaces a message's text and sender, marks it edited, and with a `nil` sender (a removed message) drops its
    /// attachments; the slot and its id stay.
    func updateMessage(channelID: Int64, messageID: Int64, text: String, senderID: UUIDString?) async throws

    /// Appends a message, assigning the channel's next `messageID`. Returns only once the message is committed.
    /// When the sender already stored a message with the same `senderNumber`, returns that one (`isNew` false).
    /// Once the message has its place in the store's queue (a message appended after that is committed after this
    /// one), the store calls ``PipelinedWrite/queued()`` so that a pipelining connection may start its next request.
    func appendMessage(_ message: NewMessage) async throws -> AppendedMessage
    /// Messages of a channel, newest first: ids below `before` (if given), skipping the `skip` newest of those.
    func messages(channelID: Int64, before: Int64?, skip: Int, limit: Int) async throws -> [StoredMessage]
}

/// A store failure the client is told about.
public enum StoreError: Error, Sendable, Hashable {
    case inviteInvalid(String)
    case alreadyRegistered(String)
    case banned(String)
}

/// Keys of the settings the community keeps in its store.
public enum SettingKey {
    /// Base64 of the community's raw 32-byte X25519 private key.
    public static let privateKey = "community.private_key"
    public static let name = "community.name"
    public static let description = "community.description"
    /// An attachment id, or empty for none.
    public static let icon = "community.icon"
    /// `true` when anyone who knows the address may register without an invite (seed 003 public community).
    public static let isPublic = "community.public"
    /// The base URL invites point at, e.g. `http://127.0.0.1:1984`. Written by `commune serve`.
    public static let publicURL = "server.public_url"
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
