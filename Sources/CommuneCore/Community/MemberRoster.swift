import CommuneProtocol

/// The members in memory, by id, with an index of their names' look-alike keys (``TextPolicy/lookalikeKeys(_:)``)
/// so that a new or changed name is checked against every other member's in constant time.
struct MemberRoster: Sendable {
    private var byID: [UUIDString: Member] = [:]
    private var byKey: [String: Set<UUIDString>] = [:]

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
}
