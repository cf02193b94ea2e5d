import CommuneProtocol
import Testing

@testable import CommuneCore

/// The roster's search order (`get_members {query}`, issue 16) stays right through joins, renames and removals: what
/// its binary search returns is what a scan of every member would, and the place a change moved is remembered.
@Suite("Member roster: search by the start of a name")
struct MemberRosterSearchTests {
    /// The members whose folded name starts with `query` folded, in search order, at most `limit`: by a full scan.
    static func scanned(_ members: [Member], _ query: String, limit: Int) -> [String] {
        let prefix = Array(MemberRoster.fold(query).utf8)
        return members.filter { MemberRoster.fold($0.username).utf8.starts(with: prefix) }
            .map(MemberRoster.SearchKey.init).sorted().prefix(limit).map(\.username)
    }

    @Test("2,000 members with mixed case, accents and Cyrillic, renamed and removed: the search equals a scan")
    func searchEqualsScan() {
        // A fixed sequence of names: no randomness, the same run every time.
        let stems = ["anna", "Anna", "ÁNNA", "\u{430}nna", "bob", "Bo", "bø", "Ελένη", "zoë", "Zoe", "m1", "M12", "m120"]
        var members: [UUIDString: Member] = [:]
        for index in 0..<2_000 {
            let member = Member(id: .random(), username: "\(stems[index % stems.count])\(index)", publicKey: [], group: "member", joinedAt: 0)
            members[member.id] = member
        }
        var roster = MemberRoster(Array(members.values))
        var ids = members.keys.sorted()
        // Every third member renamed, every seventh removed, 100 joining.
        for (index, id) in ids.enumerated() where index % 3 == 0 {
            members[id]?.username = "\(stems[(index + 5) % stems.count])r\(index)"
            roster[id] = members[id]
        }
        for (index, id) in ids.enumerated() where index % 7 == 0 {
            members[id] = nil
            roster[id] = nil
        }
        for index in 0..<100 {
            let member = Member(id: .random(), username: "ann\(index)", publicKey: [], group: "member", joinedAt: 0)
            members[member.id] = member
            roster[member.id] = member
        }
        ids = Array(members.keys)
        #expect(roster.count == members.count)
        let queries = ["", "a", "an", "ANN", "ánn", "\u{430}", "\u{430}nn", "b", "bo", "BØ", "ε", "ΕΛ", "zo", "zoë", "m12", "m120", "x", "ann9"]
        for query in queries {
            for limit in [1, 10, 50] {
                let found = roster.members(startingWith: MemberRoster.fold(query), limit: limit).map(\.username)
                #expect(found == Self.scanned(Array(members.values), query, limit: limit), "query \(query), limit \(limit)")
            }
        }
        // Case and accents aside, other scripts apart.
        #expect(roster.members(startingWith: MemberRoster.fold("ANNA"), limit: 50).allSatisfy { !$0.username.hasPrefix("\u{430}") })
        #expect(!roster.members(startingWith: MemberRoster.fold("ÁNNA"), limit: 50).isEmpty)
    }

    @Test("the first place a join, a removal or a rename moved is remembered until read, the lowest of several")
    func changedFrom() {
        let names = ["bob", "carol", "dave", "erin"]
        let members = names.map { Member(id: .random(), username: $0, publicKey: [], group: "member", joinedAt: 0) }
        var roster = MemberRoster(members)
        #expect(roster.takeChangedFrom() == nil)
        let zed = Member(id: .random(), username: "zed", publicKey: [], group: "member", joinedAt: 0)
        roster[zed.id] = zed
        #expect(roster.takeChangedFrom() == 4)
        #expect(roster.takeChangedFrom() == nil)
        // dave (place 2) renamed to "alf" (place 0), then erin (place 3) removed: from 0.
        var dave = members[2]
        dave.username = "alf"
        roster[dave.id] = dave
        roster[members[3].id] = nil
        #expect(roster.takeChangedFrom() == 0)
        // A change that keeps the name moves nothing.
        var bob = members[0]
        bob.statusText = "away"
        roster[bob.id] = bob
        #expect(roster.takeChangedFrom() == nil)
    }
}
