import CommuneProtocol

/// Each member's home: the list of communities they keep here, sealed by their client (``HomeEntry``). Each change is
/// one critical section (one transaction) that checks ``HomeRules`` against the member's stored entries, so the limit,
/// unique ids and unique positions hold however many devices write at once. A member's entries go with the member
/// (``MemberStore/removeMember(_:ban:vengeance:)``).
public protocol HomeStore: Sendable {
    /// The member's entries, in list order (``HomeEntry/listOrder(_:_:)``).
    func homeEntries(memberID: UUIDString) async throws -> [HomeEntry]
    /// Applies `change` to the member's home as ``HomeRules/decide(_:slots:target:elsewhere:limit:)`` decides, with at
    /// most `limit` entries; a refusal changes nothing. A member who is not (or no longer) a member gets
    /// ``HomeOutcome/notFound``.
    func changeHome(memberID: UUIDString, _ change: HomeChange, limit: Int) async throws -> HomeOutcome
}

/// A change to one member's home.
public enum HomeChange: Sendable, Hashable {
    /// Adds this entry (its `memberID` is the member's).
    case add(HomeEntry)
    /// Changes the given fields of entry `id`.
    case update(UUIDString, HomeEntryEdit)
    /// Removes entry `id`.
    case remove(UUIDString)

    /// The entry it is about.
    public var entryID: UUIDString {
        switch self {
        case .add(let entry): entry.id
        case .update(let id, _), .remove(let id): id
        }
    }
}

/// The fields `update_community` changes; `nil` leaves a field as it is (`secret: .some(nil)` clears the secret).
public struct HomeEntryEdit: Sendable, Hashable {
    public var address: String?
    public var title: String?
    public var secret: String??
    public var position: HomePosition?
    /// The time of the change, Unix milliseconds.
    public var updatedAt: Int64

    public init(address: String? = nil, title: String? = nil, secret: String?? = nil, position: HomePosition? = nil, updatedAt: Int64) {
        self.address = address
        self.title = title
        self.secret = secret
        self.position = position
        self.updatedAt = updatedAt
    }

    /// Whether it changes nothing at all.
    public var isEmpty: Bool { self.address == nil && self.title == nil && self.secret == nil && self.position == nil }

    /// `entry` with this edit made.
    public func applied(to entry: HomeEntry) -> HomeEntry {
        var changed = entry
        if let address = self.address { changed.address = address }
        if let title = self.title { changed.title = title }
        if let secret = self.secret { changed.secret = secret }
        if let position = self.position { changed.position = position }
        changed.updatedAt = self.updatedAt
        return changed
    }
}

/// What ``HomeStore/changeHome(memberID:_:limit:)`` did.
public enum HomeOutcome: Sendable, Hashable {
    case added(HomeEntry)
    case updated(HomeEntry)
    case removed(UUIDString)
    /// Refused: the member's home has an entry with this id already.
    case idTaken
    /// Refused: another entry of the member's home stands at this position.
    case positionTaken(HomePosition)
    /// Refused: the member's home holds as many entries as it may.
    case full
    /// Refused: the id is another member's entry.
    case othersEntry
    /// Refused: no entry with this id (or the member is gone).
    case notFound
}
