import CommuneProtocol

/// Everything a community keeps durably, split by concern so that each implementation (SQLite, PostgreSQL, the
/// in-memory store of the tests) is written and tested one concern at a time.
///
/// Implemented by `SQLiteStore` (embedded, zero configuration), by ``InMemoryStore`` (tests and tools), and later by
/// a PostgreSQL store for clusters. Every method either completes its whole effect or none of it. Methods that fail
/// for a reason the client should hear about throw ``StoreError``; anything else is reported to the client as
/// `internal_error`.
public typealias CommunityStore = SettingsStore & StructureStore & MemberStore & GroupStore & InviteStore & AttachmentStore
    & AuditStore & MessageStore & SearchStore & ReactionStore & PinStore & ReadStateStore & HomeStore
    & StoreHealthCheck

/// A store failure the client is told about.
public enum StoreError: Error, Sendable, Hashable {
    case inviteInvalid(String)
    case alreadyRegistered(String)
    case banned(String)
    /// The write did not fit: the disk (or the database's size limit) is full. Nothing was written.
    case storageFull
}
