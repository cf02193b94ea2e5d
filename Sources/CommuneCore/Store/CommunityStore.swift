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
    /// Consumes one use of the invite and adds the member, atomically.
    ///
    /// - Throws: ``StoreError/inviteInvalid(_:)`` when the invite cannot be used at `now` (nothing changes),
    ///   ``StoreError/alreadyRegistered`` when the id or the key is taken (nothing changes).
    /// - Returns: the member as stored, with the invite's group.
    func registerMember(_ member: Member, inviteCode: String, now: Int64) async throws -> Member

    func createInvite(_ invite: Invite) async throws
    func invites() async throws -> [Invite]

    /// Appends a message, assigning the channel's next `messageID`. Returns only once the message is committed.
    func appendMessage(_ message: NewMessage) async throws -> StoredMessage
    /// Messages of a channel, newest first: ids below `before` (if given), skipping the `skip` newest of those.
    func messages(channelID: Int64, before: Int64?, skip: Int, limit: Int) async throws -> [StoredMessage]
}

/// A store failure the client is told about.
public enum StoreError: Error, Sendable, Hashable {
    case inviteInvalid(String)
    case alreadyRegistered(String)
}

/// Keys of the settings the community keeps in its store.
public enum SettingKey {
    /// Base64 of the community's raw 32-byte X25519 private key.
    public static let privateKey = "community.private_key"
    public static let name = "community.name"
    /// The base URL invites point at, e.g. `http://127.0.0.1:1984`. Written by `commune serve`.
    public static let publicURL = "server.public_url"
}
