import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Testing

@Suite("Members: names, status, mute, removal and bans, live")
struct MemberTests {
    let general = ChannelAddress(path: "General", name: "General")

    @Test("display name and status changes reach every member, and later logins see them")
    func profile() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")
        let renamed = try await alice.connection.community("set_username", ["username": "  Alice 🌸 "])
        #expect(renamed.payload["username"] == "Alice 🌸")
        let seen = try await bob.events.nextUpdate("member_changed")
        #expect(seen.payload["username"] == "Alice 🌸")
        _ = try await alice.connection.community("set_status", ["status": "busy", "text": "in a meeting"])
        let status = try await bob.events.nextUpdate("member_changed")
        #expect(status.payload["status"] == "busy" && status.payload["status_text"] == "in a meeting")
        do {
            try await alice.connection.community("set_status", ["status": "asleep"])
            Issue.record("an unknown status was accepted")
        } catch let error as CommuneError {
            #expect(error.code == .invalidArgument)
        }
        // Renaming someone else needs rename_users.
        do {
            try await bob.connection.community("set_username", ["user_id": .string(alice.identity.userID.value), "username": "mallory"])
            Issue.record("bob renamed alice")
        } catch let error as CommuneError {
            #expect(error.code == .forbidden)
        }
        await server.stop()
        let restarted = try await TestServer.start(directory: server.directory)
        let members = try await restarted.connect()
        _ = try await members.login(bob.identity)
        let list = try await members.members()
        #expect(list.map(\.username) == ["Alice 🌸", "bob"])
        await restarted.stopAndRemove()
    }

    @Test("a removed member is disconnected, cannot log in, and with vengeance their messages are masked")
    func removeWithVengeance() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner()
        let spammer = try await server.member("spammer")
        let observer = try await server.member("observer")
        _ = try await spammer.connection.sendMessage("buy now", to: self.general)
        _ = try await observer.connection.sendMessage("hi", to: self.general)
        try await owner.connection.remove(spammer.identity.userID, vengeance: true)
        let removed = try await observer.events.nextUpdate("member_removed")
        #expect(removed.payload["user_id"] == .string(spammer.identity.userID.value))
        #expect(removed.payload["vengeance"] == true && removed.payload["banned"] == false)
        try await spammer.events.waitForClose()
        let history = try await observer.connection.messages(in: self.general)
        #expect(history.map(\.message) == ["hi", "*Message Removed*"])
        #expect(history[1].senderID == nil)
        let again = try await server.connect()
        do {
            _ = try await again.login(spammer.identity)
            Issue.record("a removed member logged in")
        } catch let error as CommuneError {
            #expect(error.code == .unknownUser)
        }
        // Removed, not banned: a new invite lets them back in.
        try await again.register(spammer.identity, invite: try await server.invite(), username: "reformed")
        await server.stopAndRemove()
    }

    @Test("a banned key cannot come back through another invite until unbanned; the ban list is for moderators")
    func bans() async throws {
        let server = try await TestServer.start()
        let moderator = try await server.member("mod", group: "moderator")
        let troll = try await server.member("troll")
        let bystander = try await server.member("bystander")
        try await moderator.connection.remove(troll.identity.userID, ban: true, reason: "trolling")
        try await troll.events.waitForClose()
        let update = try await bystander.events.nextUpdate("member_removed")
        #expect(update.payload["banned"] == true)
        let list = try await moderator.connection.community("get_bans")
        #expect(list.payload["bans"]?.arrayValue?.first?["reason"] == "trolling")
        // Who banned: their user id, and their name at the time as a display string.
        #expect(list.payload["bans"]?.arrayValue?.first?["banned_by"] == .string(moderator.identity.userID.value))
        #expect(list.payload["bans"]?.arrayValue?.first?["banned_by_name"] == "mod")
        do {
            try await bystander.connection.community("get_bans")
            Issue.record("a member read the ban list")
        } catch let error as CommuneError {
            #expect(error.code == .forbidden)
        }
        let code = try await server.invite()
        let back = try await server.connect()
        do {
            try await back.register(troll.identity, invite: code, username: "troll2")
            Issue.record("a banned key registered again")
        } catch let error as CommuneError {
            #expect(error.code == .banned)
        }
        // The refused registration kept the invite's use; a new key with the banned user id is refused too.
        #expect(try await server.server.store.invites().first { $0.code == code }?.usesLeft == 1)
        var sameID = Identity.generate()
        sameID.userID = troll.identity.userID
        do {
            try await back.register(sameID, invite: code, username: "troll3")
            Issue.record("a banned user id registered again")
        } catch let error as CommuneError {
            #expect(error.code == .banned)
        }
        _ = try await moderator.connection.community("unban", ["user_id": .string(troll.identity.userID.value)])
        try await back.register(troll.identity, invite: code, username: "troll")
        #expect(try await moderator.connection.community("get_bans").payload["bans"] == .array([]))
        await server.stopAndRemove()
    }

    @Test("server mute is pushed to everyone and needs suppress_users over the member")
    func serverMute() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner()
        let moderator = try await server.member("mod", group: "moderator")
        let loud = try await server.member("loud")
        let muted = try await moderator.connection.community("server_mute", ["user_id": .string(loud.identity.userID.value), "suppress": true])
        #expect(muted.payload["suppressed"] == true)
        #expect(try await loud.events.nextUpdate("member_changed").payload["suppressed"] == true)
        do {
            try await moderator.connection.community("server_mute", ["user_id": .string(owner.identity.userID.value), "suppress": true])
            Issue.record("a moderator muted the owner")
        } catch let error as CommuneError {
            #expect(error.code == .forbidden)
        }
        #expect(try await server.server.store.members().first { $0.username == "owner" }?.suppressed == false)
        // The audit log has the mute as a structured entry: the word, who, on whom, and the sentence.
        let log = try await owner.connection.community("get_audit_log", ["amount": 1])
        let entry = try #require(log.payload["entries"]?.arrayValue?.first)
        #expect(entry["action"] == "server_mute")
        #expect(entry["actor_id"] == .string(moderator.identity.userID.value) && entry["actor_name"] == "mod")
        #expect(entry["target"] == .string(loud.identity.userID.value))
        #expect(entry["text"] == "server-muted loud")
        #expect(entry["time"]?.intValue != nil)
        #expect(entry.objectValue?.keys.sorted() == ["action", "actor_id", "actor_name", "target", "text", "time"])
        await server.stopAndRemove()
    }
}
