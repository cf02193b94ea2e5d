import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Testing

@Suite("Community information and public access")
struct CommunityInfoTests {
    @Test("the owner changes the information; members see it live and at login")
    func info() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner()
        let member = try await server.member("alice")
        #expect(member.welcome.community["public"] == false)
        #expect(member.welcome.group == "member")
        #expect(!member.welcome.sessionToken.isEmpty)
        let changed = try await owner.connection.community("set_info", ["name": "Swift Friends", "description": "Talk about Swift."])
        #expect(changed.result == "info_changed")
        let update = try await member.events.nextUpdate("info_changed")
        #expect(update.payload["name"] == "Swift Friends" && update.payload["description"] == "Talk about Swift.")
        #expect(try await member.connection.community("get_info").payload == update.payload)
        let fresh = try await server.connect()
        #expect(try await fresh.login(member.identity).communityName == "Swift Friends")
        do {
            try await owner.connection.community("set_info", ["icon": "nonexistent-attachment"])
            Issue.record("an unknown icon was accepted")
        } catch let error as CommuneError {
            #expect(error.code == .notFound)
        }
        await server.stopAndRemove()
    }

    @Test("a private community refuses registration without an invite; a public one accepts it")
    func publicAccess() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner()
        let stranger = try await server.connect()
        do {
            try await stranger.register(Identity.generate(), invite: "", username: "walk-in")
            Issue.record("a private community took a walk-in")
        } catch let error as CommuneError {
            #expect(error == CommuneError(.inviteInvalid, "This community is private: joining it needs an invite."))
        }
        #expect(try await server.server.store.members().count == 1)
        _ = try await owner.connection.community("set_info", ["public": true])
        let walkIn = Identity.generate()
        try await stranger.register(walkIn, invite: "", username: "walk-in")
        let welcome = try await stranger.login(walkIn)
        #expect(welcome.group == "member")
        await server.stopAndRemove()
    }
}
