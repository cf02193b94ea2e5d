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
