import CommuneClient
import CommuneCore
import CommuneProtocol
import Testing

@Suite("Actions, message numbers, topics and links")
struct MessageFeatureTests {
    let general = ChannelAddress(path: "General", name: "General")
    let rules = ChannelAddress(path: "", name: "Rules")

    @Test("/me actions keep their kind live and in history")
    func actions() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")
        try await alice.connection.sendMessage("waves", to: self.general, kind: .action)
        let live = try await bob.events.nextUpdate("message_live")
        #expect(live.payload["kind"] == "action" && live.payload["message"] == "waves")
        let history = try await bob.connection.messages(in: self.general)
        #expect(history.first?.kind == .action)
        do {
            _ = try await alice.connection.call("send_message", on: self.general, payload: ["message": "x", "kind": "shout"])
            Issue.record("an unknown kind was accepted")
        } catch let error as CommuneError {
            #expect(error.code == .invalidArgument)
        }
        await server.stopAndRemove()
    }

    @Test("a resend with the same number returns the first reply and stores nothing new")
    func idempotentSend() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")
        let first = try await alice.connection.sendMessage("once", to: self.general, kind: .text, number: 1)
        let again = try await alice.connection.sendMessage("once", to: self.general, kind: .text, number: 1)
        #expect(first == again)
        let second = try await alice.connection.sendMessage("twice", to: self.general, kind: .text, number: 2)
        #expect(second.messageID == first.messageID + 1)
        // The resend publishes the same message again (same id): clients apply message_live by id.
        let live = try await bob.events.nextUpdate("message_live")
        #expect(live.payload["message"] == "once")
        #expect(try await bob.events.nextUpdate("message_live").payload == live.payload)
        #expect(try await bob.events.nextUpdate("message_live").payload["message"] == "twice")
        // The same number in another channel is a client bug, not a resend.
        do {
            try await alice.connection.sendMessage("elsewhere", to: self.rules, kind: .text, number: 1)
            Issue.record("a number was reused in another channel")
        } catch let error as CommuneError {
            #expect(error.code == .invalidArgument)
        }
        // The same number for a different text is not a resend either: refused, and nothing is stored.
        do {
            try await alice.connection.sendMessage("a different text", to: self.general, kind: .text, number: 2)
            Issue.record("a number was reused for a different message")
        } catch let error as CommuneError {
            #expect(error.code == .invalidArgument)
        }
        #expect(try await alice.connection.messages(in: self.general).map(\.message) == ["twice", "once"])
        // Bob's numbers are his own.
        try await bob.connection.sendMessage("mine", to: self.general, kind: .text, number: 1)
        let history = try await alice.connection.messages(in: self.general)
        #expect(history.map(\.message) == ["mine", "twice", "once"])
        #expect(try await alice.connection.messages(in: self.rules).isEmpty)
        await server.stopAndRemove()
    }

    @Test("a topic set by a permitted member reaches everyone and the tree")
    func topic() async throws {
        let server = try await TestServer.start()
        let moderator = try await server.member("mod", group: "moderator")
        let member = try await server.member("carol")
        try await moderator.connection.setTopic("Be kind.", of: self.rules)
        let update = try await member.events.nextUpdate("topic_changed")
        #expect(update.payload["topic"] == "Be kind." && update.address == self.rules)
        let fresh = try await server.connect()
        let welcome = try await fresh.login(member.identity)
        #expect(welcome.interactables.first { $0.name == "Rules" }?.data["topic"] == "Be kind.")
        do {
            try await member.connection.setTopic("mine now", of: self.rules)
            Issue.record("a plain member set the topic")
        } catch let error as CommuneError {
            #expect(error.code == .forbidden)
        }
        do {
            try await moderator.connection.setTopic(String(repeating: "t", count: 513), of: self.rules)
            Issue.record("an over-long topic was accepted")
        } catch let error as CommuneError {
            #expect(error.code == .tooLarge)
        }
        await server.stopAndRemove()
    }

    @Test("link channels point at another community or at a member")
    func links() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner()
        let observer = try await server.member("watcher")
        _ = try await owner.connection.call(
            "create", on: ChannelAddress(path: "", name: "Friends"), payload: ["codec": "link", "kind": "community", "target": "https://chat.example.org"]
        )
        let tree = try await observer.events.nextUpdate("tree_changed")
        let friends = try InteractableNode.decodeTree(tree.payload["interactables"] ?? [:]).first { $0.name == "Friends" }
        #expect(friends?.codec == "link")
        #expect(friends?.data["kind"] == "community" && friends?.data["target"] == "https://chat.example.org")
        _ = try await owner.connection.call(
            "create", on: ChannelAddress(path: "", name: "Ask the owner"),
            payload: ["codec": "link", "kind": "user", "target": .string(owner.identity.userID.value)]
        )
        for bad: JSONValue in [
            ["codec": "link", "kind": "user", "target": "not-a-member"], ["codec": "link", "kind": "space", "target": "x"],
            ["codec": "link", "kind": "community", "target": "javascript:alert(1)"],
        ] {
            do {
                _ = try await owner.connection.call("create", on: ChannelAddress(path: "", name: "Bad"), payload: bad)
                Issue.record("a bad link was accepted: \(bad)")
            } catch let error as CommuneError {
                #expect(error.code == .invalidArgument)
            }
        }
        await server.stopAndRemove()
    }
}
