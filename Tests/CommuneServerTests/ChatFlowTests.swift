import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Testing

@Suite("Chat over real connections")
struct ChatFlowTests {
    let general = ChannelAddress(path: "General", name: "General")

    @Test("invite → register → challenge login → send → live delivery → paging → restart keeps history")
    func fullFlow() async throws {
        let server = try await TestServer.start()
        let ownerInvite = try #require(server.ready.ownerInvite)
        #expect(ownerInvite.baseURL == server.baseURL)

        // The owner joins with the invite link printed on first start.
        let owner = try await server.connect()
        let ownerIdentity = Identity.generate()
        let registered = try await owner.register(ownerIdentity, invite: ownerInvite.description, username: "  alice ")
        #expect(registered.accepted && registered.userID == ownerIdentity.userID)
        let welcome = try await owner.login(ownerIdentity)
        #expect(welcome.accepted && welcome.username == "alice")

        // The seed's example tree, in position order.
        #expect(welcome.interactables.map(\.name) == ["General", "Rules"])
        #expect(welcome.interactables.map(\.codec) == ["category", "text"])
        let category = welcome.interactables[0]
        #expect(category.children.map(\.name) == ["General", "VC-1"])
        #expect(category.children.map(\.codec) == ["text", "voice"])
        #expect(category.children[1].data["active_users"] == .object([:]))

        let bob = try await server.member("bob")
        let sent = try await owner.sendMessage("hello, bob 👋", to: self.general)
        #expect(sent.messageID == 1)

        let live = try await bob.events.nextUpdate(TextFunction.messageLive)
        #expect(live.address == self.general)
        #expect(live.codec == "text")
        let message = try ChatMessage(json: live.payload)
        #expect(message == ChatMessage(messageID: 1, message: "hello, bob 👋", sendTime: sent.sendTime, senderID: ownerIdentity.userID))

        for index in 2...7 {
            _ = try await bob.connection.sendMessage("message \(index)", to: self.general)
        }
        let firstPage = try await owner.messages(in: self.general, loaded: 0, amount: 3)
        #expect(firstPage.map(\.messageID) == [7, 6, 5])
        let secondPage = try await owner.messages(in: self.general, loaded: 3, amount: 3)
        #expect(secondPage.map(\.messageID) == [4, 3, 2])
        let lastPage = try await owner.messages(in: self.general, loaded: 6, amount: 3)
        #expect(lastPage.map(\.messageID) == [1])
        #expect(try await owner.messages(in: self.general, loaded: 7, amount: 3).isEmpty)
        #expect(try await owner.messages(in: self.general, amount: 2, before: 3).map(\.messageID) == [2, 1])
        #expect(try await owner.messages(in: ChannelAddress(path: "", name: "Rules")).isEmpty)

        // Restart on the same data folder.
        await server.stop()
        let restarted = try await TestServer.start(directory: server.directory)
        #expect(restarted.ready.ownerInvite == nil)
        let again = try await restarted.connect()
        let secondWelcome = try await again.login(ownerIdentity, communityKey: welcome.communityKey)
        #expect(secondWelcome.username == "alice")
        let history = try await again.messages(in: self.general, amount: 50)
        #expect(history.map(\.messageID) == Array((1...7).reversed()))
        #expect(history.last?.message == "hello, bob 👋")
        #expect(history.last?.senderID == ownerIdentity.userID)
        #expect(try await again.sendMessage("after restart", to: self.general).messageID == 8)
        await restarted.stopAndRemove()
    }

    @Test("the sender gets message_received, every other connection gets message_live")
    func fanOut() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")
        let carol = try await server.member("carol")
        // Alice's second device: another connection of the same member.
        let aliceAgain = try await server.connect()
        _ = try await aliceAgain.login(alice.identity)
        let aliceAgainEvents = EventReader(aliceAgain)

        let receipt = try await alice.connection.sendMessage("to everyone", to: self.general)
        for reader in [bob.events, carol.events, aliceAgainEvents] {
            let update = try await reader.nextUpdate(TextFunction.messageLive)
            #expect(update.payload["message_id"] == .int(receipt.messageID))
            #expect(update.payload["message"] == "to everyone")
        }
        // The sending connection itself gets no copy.
        _ = try await alice.connection.sendMessage("second", to: self.general)
        let next = try await bob.events.nextUpdate(TextFunction.messageLive)
        #expect(next.payload["message"] == "second")
        while let envelope = try? await alice.events.next(timeout: .milliseconds(200)) {
            if envelope.type == .update, let update = try? FunctionResult(data: envelope.data) {
                #expect(update.result != TextFunction.messageLive)
            }
        }
        await server.stopAndRemove()
    }

    @Test("members and presence are pushed live")
    func presence() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let bobConnection = try await server.connect()
        let bobIdentity = Identity.generate()
        try await bobConnection.register(bobIdentity, invite: try await server.invite(), username: "bob")
        let joined = try await alice.events.nextUpdate("member_joined")
        #expect(joined.payload["username"] == "bob")
        _ = try await bobConnection.login(bobIdentity)
        let online = try await alice.events.nextUpdate("presence")
        #expect(online.payload == ["user_id": .string(bobIdentity.userID.value), "online": true])

        let members = try await alice.connection.members()
        #expect(members.map(\.username) == ["alice", "bob"])
        #expect(members.map(\.online) == [true, true])

        await bobConnection.close()
        let offline = try await alice.events.nextUpdate("presence")
        #expect(offline.payload == ["user_id": .string(bobIdentity.userID.value), "online": false])
        #expect(try await alice.connection.members().first { $0.username == "bob" }?.online == false)
        await server.stopAndRemove()
    }

    @Test("keep-alive ping gets pong")
    func ping() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let pong = try await alice.connection.request(Envelope(type: .ping, id: "p1"))
        #expect(pong.type == .pong && pong.id == "p1")
        await server.stopAndRemove()
    }
}
