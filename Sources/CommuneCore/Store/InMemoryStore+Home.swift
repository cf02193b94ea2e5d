import CommuneProtocol
import Synchronization

/// Homes: each member's list of communities, under the same ``HomeRules`` as the SQLite and PostgreSQL stores.
extension InMemoryStore {
    public func homeEntries(memberID: UUIDString) async throws -> [HomeEntry] {
        self.state.withLock { state in (state.homes[memberID] ?? [:]).values.sorted(by: HomeEntry.listOrder) }
    }

    public func changeHome(memberID: UUIDString, _ change: HomeChange, limit: Int) async throws -> HomeOutcome {
        self.state.withLock { state in
            guard state.members[memberID] != nil else { return .notFound }
            let home = state.homes[memberID] ?? [:]
            let id = change.entryID
            let elsewhere = home[id] == nil && state.homes.contains { $0.key != memberID && $0.value[id] != nil }
            let slots = home.values.map { HomeRules.Slot(id: $0.id, position: $0.position) }
            let decision = HomeRules.decide(change, slots: slots, target: home[id], elsewhere: elsewhere, limit: limit)
            switch decision.write {
            case .insert(let entry)?, .replace(let entry)?: state.homes[memberID, default: [:]][entry.id] = entry
            case .delete(let id)?: state.homes[memberID]?[id] = nil
            case nil: break
            }
            return decision.outcome
        }
    }
}
