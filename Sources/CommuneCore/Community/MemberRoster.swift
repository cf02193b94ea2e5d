import CommuneProtocol
import Foundation

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
    /// The members by folded name (``SearchKey``), for a search by the start of a name without a scan.
    private var searchOrder: [SearchKey] = []
    /// The first place of the list whose member changed (a join, a removal or a rename moved the places after it)
    /// since ``takeChangedFrom()`` last read it.
    private var changedFrom: Int?

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

    /// A member's place in the search order: their name folded (``fold(_:)``) compared by its UTF-8 bytes, so that the
    /// names starting with a folded prefix are one run of the order; then username and id.
    struct SearchKey: Comparable, Sendable {
        var folded: String
        var username: String
        var id: UUIDString

        init(_ member: Member) {
            self.folded = MemberRoster.fold(member.username)
            self.username = member.username
            self.id = member.id
        }

        static func < (a: Self, b: Self) -> Bool {
            if a.folded != b.folded { return a.folded.utf8.lexicographicallyPrecedes(b.folded.utf8) }
            return (a.username, a.id) < (b.username, b.id)
        }
    }

    /// What a member search compares: the text case- and accent-folded (as message search folds words), in NFC.
    /// Look-alikes from other scripts stay apart: a Cyrillic `а` is not a Latin `a`.
    static func fold(_ text: String) -> String {
        // ASCII (most names) folds to its lower case: a fifth of Foundation's cost, 100,000 names at a start.
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            return String(decoding: text.utf8.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
        }
        return text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).precomposedStringWithCanonicalMapping
    }

    init(_ members: [Member]) {
        self.order = members.map(ListKey.init).sorted()
        self.searchOrder = members.map(SearchKey.init).sorted()
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
            var moved = self.changedFrom ?? Int.max
            if let old, let rank = self.rank(of: ListKey(old)) {
                self.order.remove(at: rank)
                moved = min(moved, rank)
            }
            if let newValue {
                let rank = self.insertionIndex(of: ListKey(newValue))
                self.order.insert(ListKey(newValue), at: rank)
                moved = min(moved, rank)
            }
            if moved != Int.max { self.changedFrom = moved }
            if let old {
                let key = SearchKey(old)
                let index = Self.lowerBound(in: self.searchOrder) { $0 < key }
                if index < self.searchOrder.count, self.searchOrder[index] == key { self.searchOrder.remove(at: index) }
            }
            if let newValue {
                let key = SearchKey(newValue)
                self.searchOrder.insert(key, at: Self.lowerBound(in: self.searchOrder) { $0 < key })
            }
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
        Self.lowerBound(in: self.order) { $0 < key }
    }

    /// The first index of `sorted` whose element is not `before` (binary search; `before` holds for a prefix of it).
    private static func lowerBound<Element>(in sorted: [Element], before: (Element) -> Bool) -> Int {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if before(sorted[middle]) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// At most `limit` members whose folded name starts with `prefix` (already folded by ``fold(_:)``), in search
    /// order: a binary search to the first, then one step per member returned.
    func members(startingWith prefix: String, limit: Int) -> [Member] {
        let bytes = Array(prefix.utf8)
        var index = Self.lowerBound(in: self.searchOrder) { $0.folded.utf8.lexicographicallyPrecedes(bytes) }
        var found: [Member] = []
        while found.count < limit, index < self.searchOrder.count, self.searchOrder[index].folded.utf8.starts(with: bytes) {
            if let member = self.byID[self.searchOrder[index].id] { found.append(member) }
            index += 1
        }
        return found
    }

    private func rank(of key: ListKey) -> Int? {
        let index = self.insertionIndex(of: key)
        return index < self.order.count && self.order[index] == key ? index : nil
    }

    /// The member's place in the member list (0 is the first), or `nil` for no member.
    func rank(of id: UUIDString) -> Int? {
        self.byID[id].flatMap { self.rank(of: ListKey($0)) }
    }

    /// The first place whose member changed since the last call (`nil`: none), and forgets it.
    mutating func takeChangedFrom() -> Int? {
        defer { self.changedFrom = nil }
        return self.changedFrom
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
