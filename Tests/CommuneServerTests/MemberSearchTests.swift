import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Testing

/// Searching the members by the start of their name (`get_members {query, limit?}`, issue 16): every member, not
/// only those a connection has seen, case and accents aside but look-alikes from other scripts apart; the page a
/// connection shows stays; and `member_counts`' `changed_from` after a join or a rename moves the places of the list.
/// Pages of 2 here, as in ``MemberListTests``.
@Suite("Member search and list changes")
struct MemberSearchTests {
    let general = ChannelAddress(path: "General", name: "General")

    static func start() async throws -> TestServer { try await MemberListTests.start() }

    /// The user ids `observer` hears `presence` about until `marker` (a message in General) arrives (bounded).
    func presenceHeard(by observer: Client, until marker: String) async throws -> [String] {
        var heard: [String] = []
        for _ in 0..<200 {
            let envelope = try #require(try await observer.events.next())
            guard envelope.type == .update else { continue }
            let update = try FunctionResult(data: envelope.data)
            if update.result == "message_live", update.payload["message"]?.stringValue == marker { return heard }
            if update.result == "presence" { heard.append(update.payload["user_id"]?.stringValue ?? "") }
        }
        Issue.record("the marker \(marker) never came")
        return heard
    }

    /// Waits (bounded) until the server counts `online` members online: closed connections have been handled.
    func waitOnline(_ online: Int64, asking asker: Client) async throws {
        try await MemberListTests().waitOnline(online, asking: asker)
    }

    /// The next `member_counts` that `client` hears for which `matches` holds (bounded).
    func counts(heardBy client: Client, where matches: (FunctionResult) -> Bool) async throws -> FunctionResult {
        for _ in 0..<20 {
            let update = try await client.events.nextUpdate("member_counts")
            if matches(update) { return update }
        }
        throw TestFailure("no member_counts as expected")
    }

    @Test("the members whose name starts with the query, case and accents aside, a Cyrillic look-alike apart; at most limit; the page shown stays")
    func search() async throws {
        let server = try await Self.start()
        // Username order: Anna, annie, bob, carol, Ánsel, аnnika (Cyrillic а); carol shows bob and carol.
        var m: [String: Client] = [:]
        for name in ["Anna", "annie", "bob", "carol", "Ánsel", "\u{430}nnika"] { m[name] = try await server.member(name) }
        let carol = try #require(m["carol"])
        _ = try await carol.connection.memberPage(offset: 2, limit: 2)

        let names = { (query: String, limit: Int) in try await carol.connection.searchMembers(query, limit: limit).map(\.username) }
        #expect(try await names("ann", 10) == ["Anna", "annie"])
        #expect(try await names("ANN", 10) == ["Anna", "annie"])
        #expect(try await names("an", 10) == ["Anna", "annie", "Ánsel"])
        #expect(try await names("án", 10) == ["Anna", "annie", "Ánsel"])
        #expect(try await names("an", 2) == ["Anna", "annie"])
        #expect(try await names("\u{430}nn", 10) == ["\u{430}nnika"])
        #expect(try await names("annx", 10).isEmpty)
        #expect(try await names("", 3) == ["Anna", "annie", "Ánsel"])
        // The reply carries the counts, and no offset.
        let reply = try await carol.connection.community("get_members", ["query": "b"])
        #expect(reply.result == "member_list" && reply.payload["offset"] == nil && reply.payload["total"]?.intValue == 6)
        #expect(reply.payload["members"]?.arrayValue?.first?["online"]?.boolValue == true)

        // A rename moves the member in the search too.
        _ = try await m["bob"]!.connection.community("set_username", ["username": "Annabel"])
        #expect(try await names("ann", 10) == ["Anna", "Annabel", "annie"])
        #expect(try await names("bo", 10).isEmpty)

        // Places 2 and 3 are now annie and carol (Annabel sorts before annie); a search after reading them leaves
        // carol showing them: annie's leaving reaches carol, Anna's does not.
        let page = try await carol.connection.memberPage(offset: 2, limit: 2)
        #expect(page.members.map(\.username) == ["annie", "carol"])
        _ = try await carol.connection.searchMembers("a", limit: 50)
        await m["Anna"]!.connection.close()
        await m["annie"]!.connection.close()
        try await self.waitOnline(4, asking: m["Ánsel"]!)
        _ = try await m["Ánsel"]!.connection.sendMessage("after", to: self.general)
        #expect(try await self.presenceHeard(by: carol, until: "after") == [m["annie"]!.identity.userID.value])
        await server.stopAndRemove()
    }

    @Test("bad queries are refused with their exact error, and the page shown stays; before login, not_authenticated")
    func refusals() async throws {
        let server = try await Self.start()
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")
        let carol = try await server.member("carol")
        // bob shows places 1 and 2 (bob, carol).
        _ = try await bob.connection.memberPage(offset: 1, limit: 2)
        let refusals: [(JSONValue, String)] = [
            (["query": "a\u{202E}b"], "data.payload.query must not contain invisible or direction-changing characters (U+202E)."),
            (["query": "\u{2067}al"], "data.payload.query must not contain invisible or direction-changing characters (U+2067)."),
            (["query": "al\u{200B}"], "data.payload.query must not contain invisible or direction-changing characters (U+200B)."),
            (["query": "a\u{7}"], "data.payload.query must not contain control characters (U+0007)."),
            (["query": "a\nb"], "data.payload.query must not contain control characters (U+000A)."),
            (["query": .string(String(repeating: "a", count: 33))], "data.payload.query must be at most 32 characters."),
            (["query": 5], "data.payload.query must be a string, not number."),
            (["query": "a", "limit": 0], "data.payload.limit must be between 1 and 50 with a query."),
            (["query": "a", "limit": 51], "data.payload.limit must be between 1 and 50 with a query."),
            (["query": "a", "limit": .double(1.5)], "data.payload.limit must be a whole number."),
            (["query": "a", "offset": 0], "data.payload.query cannot be given with offset or user_ids."),
            (["query": "a", "user_ids": .array([.string(alice.identity.userID.value)])], "data.payload.query cannot be given with offset or user_ids."),
        ]
        for (payload, message) in refusals {
            do {
                try await bob.connection.community("get_members", payload)
                Issue.record("get_members \(payload) was accepted")
            } catch let error as CommuneError {
                #expect(error.code == .invalidArgument && error.message == message, "\(error)")
            }
            // A good request in between (ten refusals in a row close the connection): the same members as before.
            #expect(try await bob.connection.searchMembers("b").map(\.username) == ["bob"])
        }
        // 32 characters is the longest a name may be: allowed (and matches nobody).
        #expect(try await bob.connection.searchMembers(String(repeating: "a", count: 32)).isEmpty)
        // Nothing changed: the same members, bob's page still holds carol (whose leaving bob hears), not alice.
        #expect(try await bob.connection.searchMembers("").map(\.username) == ["alice", "bob", "carol"])
        // (dave asks for the counts: a get_members with offset or limit would change the page of whoever asks.)
        let marker = try await server.member("dave")
        await alice.connection.close()
        await carol.connection.close()
        try await self.waitOnline(2, asking: marker)
        _ = try await marker.connection.sendMessage("after", to: self.general)
        #expect(try await self.presenceHeard(by: bob, until: "after") == [carol.identity.userID.value])

        let stranger = try await server.connect()
        await #expect(throws: CommuneError(.notAuthenticated, "Log in first: send identification, then challenge_response.")) {
            try await stranger.community("get_members", ["query": "a"])
        }
        await server.stopAndRemove()
    }

    @Test("member_counts says from which place a join or a rename moved the list, so that later pages read again")
    func changedFrom() async throws {
        let server = try await Self.start()
        var m: [String: Client] = [:]
        for name in ["bob", "carol", "dave", "erin", "zed"] { m[name] = try await server.member(name) }
        let zed = try #require(m["zed"])
        // zed shows places 3 and 4 (erin, zed).
        _ = try await zed.connection.memberPage(offset: 3, limit: 2)

        // aaron joins at place 0: the next counts say the list changed from 0.
        let aaron = try await server.member("aaron")
        let afterJoin = try await self.counts(heardBy: zed) { $0.payload["total"]?.intValue == 6 }
        #expect(afterJoin.payload["changed_from"]?.intValue == 0)
        // zed reads its page again and finds the places moved by one.
        #expect(try await zed.connection.memberPage(offset: 3, limit: 2).members.map(\.username) == ["dave", "erin"])

        // carol (place 2) becomes zoe (place 5): the counts do not change, yet the list did from place 2.
        _ = try await m["carol"]!.connection.community("set_username", ["username": "zoe"])
        let afterRename = try await self.counts(heardBy: zed) { $0.payload["changed_from"] != nil }
        #expect(afterRename.payload["changed_from"]?.intValue == 2 && afterRename.payload["total"]?.intValue == 6)
        #expect(try await zed.connection.memberPage(offset: 3, limit: 2).members.map(\.username) == ["erin", "zed"])
        _ = aaron
        await server.stopAndRemove()
    }
}
