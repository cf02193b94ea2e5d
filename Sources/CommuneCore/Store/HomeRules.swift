import CommuneProtocol

/// The rules of a change to a member's home, decided in one place for every store: each store reads what they need
/// inside its transaction (the member's ids and positions, the entry changed, whether another member holds its id),
/// asks ``decide(_:slots:target:elsewhere:limit:)`` and makes the one write it returns.
public enum HomeRules {
    /// An entry's id and position: what the rules need of the member's other entries.
    public struct Slot: Sendable, Hashable {
        public var id: UUIDString
        public var position: HomePosition

        public init(id: UUIDString, position: HomePosition) {
            self.id = id
            self.position = position
        }
    }

    /// The one write a change makes.
    public enum Write: Sendable, Hashable {
        case insert(HomeEntry)
        /// Replaces the stored entry of the same member and id.
        case replace(HomeEntry)
        case delete(UUIDString)
    }

    /// What `change` does to a home whose entries are `slots`, where `target` is the member's stored entry of the
    /// change's id (if any) and `elsewhere` says whether another member has an entry of that id: the outcome, and the
    /// write to make (none when refused).
    public static func decide(
        _ change: HomeChange, slots: [Slot], target: HomeEntry?, elsewhere: Bool, limit: Int
    ) -> (outcome: HomeOutcome, write: Write?) {
        switch change {
        case .add(let entry):
            if target != nil || slots.contains(where: { $0.id == entry.id }) { return (.idTaken, nil) }
            if elsewhere { return (.othersEntry, nil) }
            if slots.contains(where: { $0.position == entry.position }) { return (.positionTaken(entry.position), nil) }
            if slots.count >= limit { return (.full, nil) }
            return (.added(entry), .insert(entry))
        case .update(let id, let edit):
            guard let target else { return (elsewhere ? .othersEntry : .notFound, nil) }
            let changed = edit.applied(to: target)
            if slots.contains(where: { $0.id != id && $0.position == changed.position }) {
                return (.positionTaken(changed.position), nil)
            }
            return (.updated(changed), .replace(changed))
        case .remove(let id):
            guard target != nil else { return (elsewhere ? .othersEntry : .notFound, nil) }
            return (.removed(id), .delete(id))
        }
    }
}
