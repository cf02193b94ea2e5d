/// The shared, ordered stream through which the nodes of a cluster (several `commune serve` on one database) tell
/// each other what happened: updates for members, disconnections, what each node must reload into memory, and who
/// is online where.
///
/// Every record gets the next position when its append commits; positions are dense and commit in order, so a
/// node that reads the records after the last position it applied sees each exactly once and in order. Each node
/// appends what it decides and applies what it reads, its own records included: positions are the same on every
/// node, which is what lets a client resume on another node. The stream also keeps who is online on which node,
/// so a node starting up begins from a consistent ``ClusterSnapshot``. PostgreSQL's implementation is
/// `PostgresClusterStream`.
public protocol ClusterStream: Sendable {
    /// The stream's identity, its newest position and who is online on which node, read in one snapshot.
    func snapshot() async throws -> ClusterSnapshot

    /// The newest position committed.
    func head() async throws -> Int64

    /// Appends `records` in order, in one transaction, and returns once it committed (their positions are assigned
    /// then; the `position` given is ignored). Presence records also change who is online where.
    func append(_ records: [ClusterRecord]) async throws

    /// The records after `position`, oldest first, at most `limit`.
    func records(after position: Int64, limit: Int) async throws -> [ClusterRecord]

    /// Calls `notified` once listening, then whenever an append commits (on any node), in commit order, with the
    /// records appended when the notification carries them (`nil`: read them with ``records(after:limit:)``), until
    /// the task is cancelled; throws when the connection listening for it is lost (the caller listens again, and
    /// reads what it may have missed meanwhile).
    func listen(_ notified: @escaping @Sendable ([ClusterRecord]?) -> Void) async throws

    /// Says `node` is alive, and ends the presence of every node not heard from for `timeout`: their members go
    /// offline through presence records appended as if those nodes had said so.
    func heartbeat(node: String, timeout: Duration) async throws

    /// `node` stops: its members go offline (presence records) and it is forgotten.
    func leave(node: String) async throws

    /// Forgets the records older than the newest `keep` (in batches, as the stream sees fit); returns how many went.
    func prune(keeping keep: Int64) async throws -> Int
}

/// One record of a ``ClusterStream``.
public struct ClusterRecord: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// Something for the nodes to carry out: an opaque body the server encodes and decodes.
        case event(String)
        /// `member` came online (`true`) or went offline on the record's `origin` node.
        case presence(member: String, online: Bool)
    }

    /// Its place in the stream (0 before it is appended).
    public var position: Int64
    /// The node that appended it.
    public var origin: String
    public var kind: Kind
    /// When its append started (Unix milliseconds), as the stream read back says; `nil` before it is appended.
    public var appendedAt: Int64?

    public init(position: Int64 = 0, origin: String, kind: Kind, appendedAt: Int64? = nil) {
        self.position = position
        self.origin = origin
        self.kind = kind
        self.appendedAt = appendedAt
    }
}

/// Where a node joining the cluster starts: the stream's identity, the position its reading starts after, and who
/// is online on the other nodes then.
public struct ClusterSnapshot: Sendable, Hashable {
    /// The same on every node of one database; new when the stream is.
    public var streamID: String
    public var position: Int64
    /// Member ids online, and on which nodes.
    public var online: [String: Set<String>]

    public init(streamID: String, position: Int64, online: [String: Set<String>]) {
        self.streamID = streamID
        self.position = position
        self.online = online
    }
}
