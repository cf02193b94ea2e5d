import CommuneProtocol

/// The members in memory, by id, with an index of their names' look-alike keys (``TextPolicy/lookalikeKeys(_:)``)
/// so that a new or changed name is checked against every other member's in constant time.
///
/// A name on its way to the store is *reserved* (``reserve(_:excluding:)``) in the same step as its check, and stays
/// so until it is in the roster or its write failed: two look-alike names registered at the same moment cannot both
/// pass the check while neither is stored yet.
struct MemberRoster: Sendable {
    private var byID: [UUIDString: Member] = [:]
    private var byKey: [String: Set<UUIDString>] = [:]
    /// The look-alike keys of reserved names, and the name that holds each.
    private var reserved: [String: String] = [:]

    init(_ members: [Member]) {
        for member in members { self[member.id] = member }
    }

    var values: Dictionary<UUIDString, Member>.Values { self.byID.values }

    var count: Int { self.byID.count }

    subscript(id: UUIDString) -> Member? {
        get { self.byID[id] }
        set {
            let old = self.byID[id]
            self.byID[id] = newValue
            guard old?.username != newValue?.username else { return }
            if let old {
                for key in TextPolicy.lookalikeKeys(old.username) {
                    self.byKey[key]?.remove(id)
                    if self.byKey[key]?.isEmpty == true { self.byKey[key] = nil }
                }
            }
            if let newValue {
                for key in TextPolicy.lookalikeKeys(newValue.username) { self.byKey[key, default: []].insert(id) }
            }
        }
    }

    /// A member other than `excluded` whose name looks like `name`, or `nil`.
    func member(lookingLike name: String, excluding excluded: UUIDString?) -> Member? {
        for key in TextPolicy.lookalikeKeys(name) {
            if let id = self.byKey[key]?.first(where: { $0 != excluded }) { return self.byID[id] }
        }
        return nil
    }

    /// Reserves `name` unless it looks like the name of a member other than `excluded` or like a reserved name; returns
    /// that other name when it does (and reserves nothing). Every reservation is ended by ``release(_:)``.
    mutating func reserve(_ name: String, excluding excluded: UUIDString?) -> String? {
        if let other = self.member(lookingLike: name, excluding: excluded) { return other.username }
        let keys = TextPolicy.lookalikeKeys(name)
        for key in keys {
            if let other = self.reserved[key] { return other }
        }
        for key in keys { self.reserved[key] = name }
        return nil
    }

    /// Ends the reservation of `name` (once it is in the roster, or its write failed).
    mutating func release(_ name: String) {
        for key in TextPolicy.lookalikeKeys(name) where self.reserved[key] == name { self.reserved[key] = nil }
    }
}
