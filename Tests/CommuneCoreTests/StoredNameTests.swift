import CommuneCore
import CommuneProtocol
import Logging
import Testing

/// Names an older version stored before the current rules: found, each with what is wrong, and left as they are.
@Suite("Stored names that break the current rules")
struct StoredNameTests {
    @Test("member, channel, group and community names the rules refuse or find look-alike are listed; good ones are not")
    func listed() async throws {
        let store = InMemoryStore()
        try await store.setSetting(SettingKey.name, "Commune\u{202E}")
        func add(_ name: String, _ key: UInt8) async throws -> Member {
            try await store.registerMember(Member(id: .random(), username: name, publicKey: [key], group: DefaultGroup.member, joinedAt: 1), inviteCode: nil, now: 1)
        }
        let alice = try await add("Alice", 1)
        let cyrillic = try await add("Аlice", 2)
        let hidden = try await add("bob\u{200B}", 3)
        _ = try await add("carol", 4)
        let nodes = try await store.createInteractables([
            NewInteractable(parentID: nil, name: "Rules", codec: "text", position: 0),
            NewInteractable(parentID: nil, name: "RuIes", codec: "text", position: 1),
            NewInteractable(parentID: nil, name: "Lounge", codec: "category", position: 2),
        ])
        _ = try await store.createInteractables([
            NewInteractable(parentID: nodes[2].id, name: "\u{2800}", codec: "text", position: 0),
            NewInteractable(parentID: nodes[2].id, name: "Rules", codec: "text", position: 1),
        ])
        try await store.saveGroup(Group(name: "mоderator", permissions: [], power: 10))  // Cyrillic о
        var logger = Logger(label: "commune.stored-names-test")
        logger.logLevel = .critical
        let community = try await Community.open(store: store, logger: logger)
        let before = try await store.members()

        let problems = community.storedNameProblems().map(\.description)
        #expect(
            problems == [
                "member name 'Alice' (user_id \(alice.id)): Looks like the name of another member ('Аlice', user_id \(cyrillic.id)).",
                "member name 'bob<U+200B>' (user_id \(hidden.id)): The username must not contain invisible or direction-changing characters (U+200B).",
                "member name 'Аlice' (user_id \(cyrillic.id)): Looks like the name of another member ('Alice', user_id \(alice.id)).",
                "channel name 'Rules' (top level): Looks like its sibling 'RuIes'.",
                "channel name 'RuIes' (top level): Looks like its sibling 'Rules'.",
                "channel name '<U+2800>' (in 'Lounge'): The name must not contain blank-looking characters (U+2800).",
                "group name 'moderator': Looks like the group 'mоderator'.",
                "group name 'mоderator': Looks like the group 'moderator'.",
                "community name 'Commune<U+202E>': The community name must not contain invisible or direction-changing characters (U+202E).",
            ]
        )
        // Nothing is renamed.
        #expect(try await store.members() == before)
        #expect(community.member(hidden.id)?.username == "bob\u{200B}")
    }

    @Test("a community whose names all follow the rules has nothing listed")
    func clean() async throws {
        let fixture = try await DomainFixture.make()
        #expect(fixture.community.storedNameProblems() == [])
    }
}
