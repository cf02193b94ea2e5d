import CommuneProtocol
import Synchronization

/// What a node keeps in memory from the store and must reload when another node changes it.
public enum CacheChange: Sendable, Hashable {
    /// The tree of interactables (structure, properties, access).
    case tree
    /// The groups and their permissions.
    case groups
    /// The community's information (name, description, icon, public or not).
    case info
    /// One member: registered, changed or removed.
    case member(UUIDString)
}

/// A community served by several nodes: what one node changes in memory is told to the others (through
/// ``observeCacheChanges(_:)``), which reload it (``reload(_:)``); who is online is counted across nodes.
extension Community {
    /// Calls `observer` each time this process changes what it keeps in memory from the store (after the store
    /// write, before the change's updates are published), so that the other nodes can reload it.
    public func observeCacheChanges(_ observer: @escaping @Sendable (CacheChange) -> Void) {
        self.cacheObserver.withLock { $0 = observer }
    }

    /// How this node puts updates in the cluster's stream from a store transaction (``StreamingMessageStore``): set
    /// by the server of a node of a cluster; `nil` alone.
    public var streamPublisher: StreamPublisher? {
        get { self.publisher.withLock { $0 } }
        set { self.publisher.withLock { $0 = newValue } }
    }

    /// Tells the observer that `change` happened here.
    func cacheChanged(_ change: CacheChange) {
        self.cacheObserver.withLock { $0 }?(change)
    }

    /// Reloads from the store what another node changed.
    public func reload(_ change: CacheChange) async throws {
        switch change {
        case .tree:
            let tree = InteractableTree(try await self.store.interactables())
            self.state.withLock { $0.tree = tree }
        case .groups:
            let groups = try await self.store.groups()
            self.state.withLock { $0.groups = Dictionary(uniqueKeysWithValues: groups.map { ($0.name, $0) }) }
        case .info:
            let info = CommunityInfo(settings: try await self.store.settings(), defaultName: self.configuration.defaultName)
            self.state.withLock { $0.info = info }
        case .member(let id):
            let member = try await self.store.member(id)
            self.state.withLock { state in
                if let old = state.members[id] { state.membersByKey.remove(X25519Key.canonical(old.publicKey)) }
                state.members[id] = member
                if let member { state.membersByKey.insert(X25519Key.canonical(member.publicKey)) }
            }
        }
    }

    /// Starts counting presence across nodes from `online` (member id → the nodes they are online on).
    public func startClusterPresence(_ online: [String: Set<String>]) {
        self.state.withLock { state in
            state.clusterOnline = [:]
            for (member, nodes) in online where !nodes.isEmpty {
                guard let id = UUIDString(member) else { continue }
                state.clusterOnline[id] = nodes
            }
        }
    }

    /// `member` came online or went offline on `node`; `true` when that changed whether they are online anywhere.
    public func clusterPresence(_ member: UUIDString, node: String, online: Bool) -> Bool {
        self.state.withLock { state in
            let before = !(state.clusterOnline[member]?.isEmpty ?? true)
            if online {
                state.clusterOnline[member, default: []].insert(node)
            } else {
                state.clusterOnline[member]?.remove(node)
                if state.clusterOnline[member]?.isEmpty == true { state.clusterOnline[member] = nil }
            }
            return before != !(state.clusterOnline[member]?.isEmpty ?? true)
        }
    }
}

/// What a node of a cluster gives the functions that write an update's record in their own store transaction
/// (a message's `message_live`, in the message's transaction: one commit instead of two).
public struct StreamPublisher: Sendable {
    /// The record of an update to an audience of members (not ``Audience/Scope/connection``), from this node.
    public var record: @Sendable (FunctionResult, Audience) -> ClusterRecord
    /// Waits until what this node queued for the stream before is committed, so that a record a transaction writes
    /// does not pass them (the updates of a member's earlier requests, say); `false` when they were not committed
    /// within a few seconds (the database unreachable): the transaction must not run then.
    public var queuedCommitted: @Sendable () async -> Bool
    /// A transaction that appended records committed (the node reads them back when it is not listening).
    public var committed: @Sendable () -> Void

    public init(
        record: @escaping @Sendable (FunctionResult, Audience) -> ClusterRecord, queuedCommitted: @escaping @Sendable () async -> Bool,
        committed: @escaping @Sendable () -> Void
    ) {
        self.record = record
        self.queuedCommitted = queuedCommitted
        self.committed = committed
    }
}
