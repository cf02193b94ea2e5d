import CommuneCore
import CommuneProtocol
import Testing

@testable import CommuneSQLite

/// Homes held to one contract on every store (StoreKind): entries listed by position number by number, then id; ids
/// and positions unique in a member's home; another member's id refused as theirs; the limit; a refusal changes
/// nothing; a member's home goes with the member.
@Suite("Home store (SQLite, in-memory and PostgreSQL)")
struct HomeStoreTests {
    func member(_ name: String, key: UInt8, in store: any CommunityStore) async throws -> UUIDString {
        let member = Member(id: .random(), username: name, publicKey: [UInt8](repeating: key, count: 32), group: "member", joinedAt: 1)
        return try await store.registerMember(member, inviteCode: nil, now: 1).id
    }

    func entry(_ member: UUIDString, _ position: String, secret: String? = nil, at time: Int64 = 5) throws -> HomeEntry {
        HomeEntry(
            memberID: member, id: .random(), position: try #require(HomePosition(position)), address: "address-\(position)",
            title: "title-\(position)", secret: secret, updatedAt: time
        )
    }

    @Test("add, list in position order, update, remove", arguments: StoreKind.allCases)
    func roundTrip(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        let alice = try await self.member("alice", key: 1, in: store)
        let bob = try await self.member("bob", key: 2, in: store)
        let ten = try self.entry(alice, "10")
        let three = try self.entry(alice, "3", secret: "secret")
        let folder = try self.entry(alice, "3.1.2")
        let zero = try self.entry(alice, "3.0")
        for entry in [ten, three, folder, zero] {
            #expect(try await store.changeHome(memberID: alice, .add(entry), limit: 500) == .added(entry))
        }
        let bobs = try self.entry(bob, "1")
        #expect(try await store.changeHome(memberID: bob, .add(bobs), limit: 500) == .added(bobs))
        #expect(try await store.homeEntries(memberID: alice) == [three, zero, folder, ten])
        #expect(try await store.homeEntries(memberID: bob) == [bobs])

        // Clearing the secret and moving: the other fields stay.
        let edit = HomeEntryEdit(secret: .some(nil), position: HomePosition("1"), updatedAt: 9)
        var moved = three
        moved.secret = nil
        moved.position = HomePosition([1])
        moved.updatedAt = 9
        #expect(try await store.changeHome(memberID: alice, .update(three.id, edit), limit: 500) == .updated(moved))
        let retitled = HomeEntryEdit(address: "new-address", title: "new-title", secret: .some("s2"), updatedAt: 10)
        var changed = ten
        (changed.address, changed.title, changed.secret, changed.updatedAt) = ("new-address", "new-title", "s2", 10)
        #expect(try await store.changeHome(memberID: alice, .update(ten.id, retitled), limit: 500) == .updated(changed))
        #expect(try await store.homeEntries(memberID: alice) == [moved, zero, folder, changed])

        #expect(try await store.changeHome(memberID: alice, .remove(zero.id), limit: 500) == .removed(zero.id))
        #expect(try await store.homeEntries(memberID: alice) == [moved, folder, changed])
        #expect(try await store.homeEntries(memberID: bob) == [bobs])
    }

    @Test("taken ids and positions, another member's entry, unknown ids and the limit change nothing", arguments: StoreKind.allCases)
    func refusals(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        let alice = try await self.member("alice", key: 1, in: store)
        let bob = try await self.member("bob", key: 2, in: store)
        let one = try self.entry(alice, "1")
        let two = try self.entry(alice, "2")
        for entry in [one, two] { _ = try await store.changeHome(memberID: alice, .add(entry), limit: 2) }
        var sameID = try self.entry(alice, "7")
        sameID.id = one.id
        #expect(try await store.changeHome(memberID: alice, .add(sameID), limit: 5) == .idTaken)
        #expect(try await store.changeHome(memberID: alice, .add(try self.entry(alice, "2")), limit: 5) == .positionTaken(HomePosition([2])))
        #expect(try await store.changeHome(memberID: alice, .add(try self.entry(alice, "3")), limit: 2) == .full)
        let moveOnto = HomeEntryEdit(position: HomePosition([1]), updatedAt: 9)
        #expect(try await store.changeHome(memberID: alice, .update(two.id, moveOnto), limit: 2) == .positionTaken(HomePosition([1])))
        // Bob cannot touch, nor reuse, Alice's ids.
        var theirs = try self.entry(bob, "1")
        theirs.id = one.id
        #expect(try await store.changeHome(memberID: bob, .add(theirs), limit: 5) == .othersEntry)
        #expect(try await store.changeHome(memberID: bob, .update(one.id, moveOnto), limit: 5) == .othersEntry)
        #expect(try await store.changeHome(memberID: bob, .remove(one.id), limit: 5) == .othersEntry)
        let unknown = UUIDString.random()
        #expect(try await store.changeHome(memberID: alice, .update(unknown, moveOnto), limit: 5) == .notFound)
        #expect(try await store.changeHome(memberID: alice, .remove(unknown), limit: 5) == .notFound)
        // Someone who is not a member has no home.
        #expect(try await store.changeHome(memberID: .random(), .add(try self.entry(.random(), "1")), limit: 5) == .notFound)
        #expect(try await store.homeEntries(memberID: alice) == [one, two])
        #expect(try await store.homeEntries(memberID: bob) == [])
    }

    @Test("a removed or banned member's home goes with them", arguments: StoreKind.allCases)
    func removal(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        let alice = try await self.member("alice", key: 1, in: store)
        let bob = try await self.member("bob", key: 2, in: store)
        let carol = try await self.member("carol", key: 3, in: store)
        var added: [UUIDString: [HomeEntry]] = [:]
        for member in [alice, bob, carol] {
            for position in ["1", "2"] {
                let entry = try self.entry(member, position)
                _ = try await store.changeHome(memberID: member, .add(entry), limit: 5)
                added[member, default: []].append(entry)
            }
        }
        _ = try await store.removeMember(bob, ban: nil, vengeance: false)
        let ban = Ban(userID: carol, publicKey: [UInt8](repeating: 3, count: 32), username: "carol", reason: "spam", bannedBy: alice, bannedByName: "alice", time: 2)
        _ = try await store.removeMember(carol, ban: ban, vengeance: true)
        #expect(try await store.homeEntries(memberID: bob) == [])
        #expect(try await store.homeEntries(memberID: carol) == [])
        #expect(try await store.homeEntries(memberID: alice).count == 2)
        // And their former ids are free, not "another member's".
        let formerID = try #require(added[bob]?.first?.id)
        #expect(try await store.changeHome(memberID: alice, .update(formerID, HomeEntryEdit(title: "t", updatedAt: 3)), limit: 5) == .notFound)
        var reused = try self.entry(alice, "3")
        reused.id = formerID
        #expect(try await store.changeHome(memberID: alice, .add(reused), limit: 5) == .added(reused))
    }
}
