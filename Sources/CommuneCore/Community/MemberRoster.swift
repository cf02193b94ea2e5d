import CommuneProtocol

/// The members in memory, by id, with an index of their names' look-alike keys (``TextPolicy/lookalikeKeys(_:)``)
/// so that a new or changed name is checked against every other member's in constant time, and the member list's
/// order (username, then id) kept sorted, so that a page of it and a member's rank in it take no sort.
///
/// A name on its way to the store is *reserved* (``reserve(_:excluding:)``) in the same step as its check, and stays
/// so until it is in the roster or its write failed: two look-alike names registered at the same moment cannot both
/// pass the check while neither is stored yet.
struct MemberRoster: Sendable {
    private var byID: [UUIDString: Member] = [:]
    private var byKey: [String: Set<UUIDString>] = [:]
    /// The look-alike keys of reserved names, and the name that holds each.
    private var reserved: [String: String] = [:]
    /// Every member's place in the list: username, then id.
    private var order: [ListKey] = []

    /// A member's place in the member list.
    struct ListKey: Comparable, Sendable {
        var username: String
        var id: UUIDString

        init(_ member: Member) {
            self.username = member.username
            self.id = member.id
        }

        static func < (a: Self, b: Self) -> Bool { (a.username, a.id) < (b.username, b.id) }
    }

    init(_ members: [Member]) {
        self.order = members.map(ListKey.init).sorted()
        for member in members {
            self.byID[member.id] = member
            self.index(member.id, old: nil, new: member)
        }
    }

    var values: Dictionary<UUIDString, Member>.Values { self.byID.values }

    var count: Int { self.byID.count }

    subscript(id: UUIDString) -> Member? {
        get { self.byID[id] }
        set {
            let old = self.byID[id]
            self.byID[id] = newValue
            guard old?.username != newValue?.username else { return }
            if let old, let rank = self.rank(of: ListKey(old)) { self.order.remove(at: rank) }
            if let newValue { self.order.insert(ListKey(newValue), at: self.insertionIndex(of: ListKey(newValue))) }
            self.index(id, old: old, new: newValue)
        }
    }

    /// Files `id`'s look-alike keys under its new name instead of its old one.
    private mutating func index(_ id: UUIDString, old: Member?, new newValue: Member?) {
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

    /// Where `key` is, or would go, in ``order`` (binary search).
    private func insertionIndex(of key: ListKey) -> Int {
        var low = 0
        var high = self.order.count
        while low < high {
            let middle = (low + high) / 2
            if self.order[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private func rank(of key: ListKey) -> Int? {
        let index = self.insertionIndex(of: key)
        return index < self.order.count && self.order[index] == key ? index : nil
    }

    /// The member's place in the member list (0 is the first), or `nil` for no member.
    func rank(of id: UUIDString) -> Int? {
        self.byID[id].flatMap { self.rank(of: ListKey($0)) }
    }

    /// The members at places `range` of the list (clamped to the list).
    func members(in range: Range<Int>) -> [Member] {
        let clamped = range.clamped(to: 0..<self.order.count)
        return self.order[clamped].compactMap { self.byID[$0.id] }
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
