import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneSQLite
import Foundation
import Testing

/// Mentions over real connections: by `<@USER_ID>` token and by typed `@name`, carried in live updates and history,
/// counted in `get_read_state` from the read mark; every refusal with its exact code and nothing stored.
@Suite("Mentions")
struct MentionTests {
    let general = ChannelAddress(path: "General", name: "General")

    func send(_ client: Client, _ text: String) async throws -> FunctionResult {
        try await client.connection.call(TextFunction.sendMessage, on: self.general, payload: ["message": .string(text)])
    }

    func mentions(_ state: [ChannelReadState]) throws -> Int64 {
        try #require(state.first { $0.channel == self.general }).mentions
    }

    @Test("a token and a typed @name mention their members, live and in history; an unknown name stays text")
    func tokenAndName() async throws {
        let server = try await TestServer.start()
        let alice = try await server.owner("alice")
        let bob = try await server.member("bob")
        let carol = try await server.member("carol")
        let bobID = bob.identity.userID
        let carolID = carol.identity.userID
        _ = try await self.send(alice, "hi <@\(bobID.value)> and @carol, and <@\(bobID.value)> again; @nobody @carol.")
        let live = try ChatMessage(json: try await bob.events.nextUpdate(TextFunction.messageLive).payload)
        #expect(live.mentions == [bobID, carolID])
        #expect(live.mentionsEveryone == false)
        // A token in upper case is the same member; text without mentions carries none.
        _ = try await self.send(alice, "<@\(bobID.value.uppercased())>")
        _ = try await self.send(alice, "mail me at alice@example.org, or @ alone")
        let history = try await carol.connection.messages(in: self.general)
        #expect(history.map(\.mentions) == [[], [bobID], [bobID, carolID]])
        await server.stopAndRemove()
    }

    @Test("a typed name resolves only to the member with exactly that name, never to a look-alike")
    func lookalikes() async throws {
        let server = try await TestServer.start()
        let alice = try await server.owner("alice")
        _ = try await server.member("bob")
        await server.stop()
        // A look-alike registered before the look-alike rule (the server refuses one now): Cyrillic а, and a
        // decomposed é whose NFC is another member's name.
        let store = try await SQLiteStore(directory: server.directory)
        let cyrillic = Identity.generate()
        let accented = Identity.generate()
        for (identity, name) in [(cyrillic, "\u{430}lice"), (accented, "jos\u{E9}")] {
            _ = try await store.registerMember(
                Member(id: identity.userID, username: name, publicKey: Array(try #require(Data(base64Encoded: identity.publicKey))), group: "member", joinedAt: 1),
                inviteCode: nil, now: 1
            )
        }
        let restarted = try await TestServer.start(directory: server.directory)
        let owner = try await restarted.connect()
        _ = try await owner.login(alice.identity, communityKey: alice.welcome.communityKey)
        let sent = [
            "@alice", "@\u{430}lice", "@jose\u{301}", "@ALICE",
        ]
        for text in sent { _ = try await owner.call(TextFunction.sendMessage, on: self.general, payload: ["message": .string(text)]) }
        let history = try await owner.messages(in: self.general).reversed().map(\.mentions)
        #expect(history == [[alice.identity.userID], [cyrillic.userID], [accented.userID], []])
        await restarted.stopAndRemove()
    }

    @Test("a typed @name with spaces mentions the member with the longest exact name, never a look-alike")
    func namesWithSpaces() async throws {
        let server = try await TestServer.start()
        let alice = try await server.owner("alice")
        let bob = try await server.member("bob")
        let bobSmith = try await server.member("bob smith")
        let junior = try await server.member("bob smith jr")
        await server.stop()
        // A look-alike of "bob smith" (Cyrillic о) registered before the look-alike rule (the server refuses one now).
        let store = try await SQLiteStore(directory: server.directory)
        let cyrillic = Identity.generate()
        _ = try await store.registerMember(
            Member(id: cyrillic.userID, username: "b\u{43E}b smith", publicKey: Array(try #require(Data(base64Encoded: cyrillic.publicKey))), group: "member", joinedAt: 1),
            inviteCode: nil, now: 1
        )
        let restarted = try await TestServer.start(directory: server.directory)
        let owner = try await restarted.connect()
        _ = try await owner.login(alice.identity, communityKey: alice.welcome.communityKey)
        let (b, s, j) = (bob.identity.userID, bobSmith.identity.userID, junior.identity.userID)
        let sent: [(String, [UUIDString])] = [
            ("@bob smith, are you there?", [s]),
            ("hi @bob smith jr.", [j]),
            ("@b\u{43E}b smith hello", [cyrillic.userID]),
            ("@bob smithers and @bob", [b]),
            ("@bob  smith (two spaces) and @Bob Smith", [b]),
            ("@bob\nsmith", [b]),
            ("@bob smith jr @bob smith @bob", [j, s, b]),
            ("@" + String(repeating: "bob smith ", count: 390), [s]),
        ]
        for (text, _) in sent { _ = try await owner.call(TextFunction.sendMessage, on: self.general, payload: ["message": .string(text)]) }
        let history = try await owner.messages(in: self.general, amount: sent.count).reversed()
        #expect(history.map(\.mentions) == sent.map(\.1))
        // The text is stored as written.
        #expect(history.map(\.message) == sent.map(\.0))
        await restarted.stopAndRemove()
    }

    @Test("an unknown id, @everyone without mention_everyone and too many mentions are refused; nothing is stored")
    func refusals() async throws {
        let server = try await TestServer.start()
        let moderator = try await server.member("mod", group: "moderator")
        let bob = try await server.member("bob")
        let carol = try await server.member("carol")
        _ = try await self.send(bob, "first")
        let unknown = UUIDString.random()
        await expectError(.notFound) { _ = try await self.send(bob, "hi <@\(unknown.value)>") }
        await expectError(.forbidden) { _ = try await self.send(bob, "hey @everyone!") }
        // 21 distinct members: one over the limit of 20 (repeats count once).
        var names = ["carol", "mod"]
        for index in 0..<19 { names.append("m\(index)"); _ = try await server.member("m\(index)") }
        await expectError(.limitReached) { _ = try await self.send(bob, names.map { "@\($0)" }.joined(separator: " ")) }
        #expect(try await bob.connection.messages(in: self.general).map(\.message) == ["first"])
        // Hostile text: a zero-width space inside a token or a name makes it plain text, mentioning nobody.
        _ = try await self.send(bob, "<@\u{200B}\(carol.identity.userID.value)> @car\u{200B}ol \u{202E}@carol")
        #expect(try await bob.connection.messages(in: self.general, amount: 1)[0].mentions.isEmpty)
        // 20 are allowed; @everyone with the permission.
        let twenty = names.dropFirst().map { "@\($0)" }.joined(separator: " ") + " @mod"
        _ = try await self.send(bob, twenty)
        _ = try await self.send(moderator, "@everyone, meeting now")
        let history = try await carol.connection.messages(in: self.general)
        #expect(history[0].mentionsEveryone == true && history[0].mentions.isEmpty)
        #expect(history[1].mentions.count == 20)
        // A member given mention_everyone may use it.
        let owner = try await server.owner()
        _ = try await owner.connection.community("update_group", ["group": "member", "changes": [["add": "mention_everyone"]]])
        #expect(try await self.send(bob, "@everyone").result == TextFunction.messageReceived)
        await server.stopAndRemove()
    }

    @Test("an edit mentions whom its new text mentions (live and counted); a refused edit changes nothing")
    func edits() async throws {
        let server = try await TestServer.start()
        _ = try await server.owner("alice")
        let bob = try await server.member("bob")
        let carol = try await server.member("carol")
        let id = try await bob.connection.sendMessage("hello @carol", to: self.general).messageID
        #expect(try self.mentions(try await carol.connection.readState()) == 1)
        let edit = { (text: String) in
            try await bob.connection.call(TextFunction.editMessage, on: self.general, payload: ["message_id": .int(id), "message": .string(text)])
        }
        _ = try await edit("hello <@\(bob.identity.userID.value)>, not carol")
        let edited = try ChatMessage(json: try await carol.events.nextUpdate(TextFunction.messageEdited).payload)
        #expect(edited.mentions == [bob.identity.userID])
        #expect(try self.mentions(try await carol.connection.readState()) == 0)
        await expectError(.forbidden) { _ = try await edit("@everyone now") }
        await expectError(.notFound) { _ = try await edit("<@\(UUIDString.random().value)>") }
        let stored = try await carol.connection.messages(in: self.general, amount: 1)[0]
        #expect(stored.message == "hello <@\(bob.identity.userID.value)>, not carol" && stored.mentions == [bob.identity.userID])
        _ = try await edit("back to @carol")
        #expect(try self.mentions(try await carol.connection.readState()) == 1)
        await server.stopAndRemove()
    }

    @Test("get_read_state counts unread messages mentioning me or everyone, and the count follows mark_read")
    func readStateCounts() async throws {
        let server = try await TestServer.start()
        let alice = try await server.owner("alice")
        let bob = try await server.member("bob")
        let carol = try await server.member("carol")
        let dave = try await server.member("dave")
        // Sending marks read (PROTOCOL, mark_read): each sender has read up to their own last message.
        _ = try await self.send(alice, "@everyone from me")  // 1: my own, not counted for me
        _ = try await self.send(carol, "<@\(alice.identity.userID.value)> look")  // 2
        _ = try await self.send(bob, "hello @alice")  // 3
        _ = try await self.send(bob, "nothing for you")  // 4
        _ = try await self.send(bob, "hi @carol")  // 5
        #expect(try self.mentions(try await alice.connection.readState()) == 2)  // 2 and 3
        #expect(try self.mentions(try await carol.connection.readState()) == 1)  // 5, after her own 2
        #expect(try self.mentions(try await bob.connection.readState()) == 0)  // he wrote the newest
        #expect(try self.mentions(try await dave.connection.readState()) == 1)  // @everyone
        try await alice.connection.markRead(self.general, upTo: 2)
        #expect(try self.mentions(try await alice.connection.readState()) == 1)
        // A removed message mentions nobody any more.
        _ = try await bob.connection.call(TextFunction.removeMessage, on: self.general, payload: ["message_id": 3])
        #expect(try self.mentions(try await alice.connection.readState()) == 0)
        try await carol.connection.markRead(self.general, upTo: 4)
        #expect(try self.mentions(try await carol.connection.readState()) == 1)
        try await carol.connection.markRead(self.general, upTo: 5)
        #expect(try self.mentions(try await carol.connection.readState()) == 0)
        await server.stopAndRemove()
    }
}
