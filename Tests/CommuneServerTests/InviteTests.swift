import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Testing

/// Invites over the wire: who sees and touches which invite, and what an invite may name.
@Suite("Invites")
struct InviteTests {
    let community = CommunityFunctions.address

    func invite(_ client: Client, group: String) async throws -> [String: JSONValue] {
        let created = try await client.connection.call("create_invite", on: self.community, codec: "community", payload: ["group": .string(group)])
        #expect(created.result == "invite_created")
        return try #require(created.payload.objectValue)
    }

    func list(_ client: Client) async throws -> [[String: JSONValue]] {
        let list = try await client.connection.call("list_invites", on: self.community, codec: "community")
        #expect(list.result == "invite_list")
        return try #require(list.payload["invites"]?.arrayValue).compactMap(\.objectValue)
    }

    func refusal(_ client: Client, _ function: String, _ payload: JSONValue) async throws -> CommuneError {
        do {
            _ = try await client.connection.call(function, on: self.community, codec: "community", payload: payload)
            Issue.record("\(function) \(payload.jsonString) was allowed")
            return CommuneError(.internalError, "allowed")
        } catch let error as CommuneError {
            return error
        }
    }

    /// The stored invites, as a refused call must leave them.
    func stored(_ server: TestServer) async throws -> String {
        try await server.server.store.invites().map { "\($0.code):\($0.group):\($0.usesLeft):\($0.revoked)" }.sorted().joined(separator: ",")
    }

    @Test("a moderator neither sees nor revokes invites into groups at or above their power; the owner sees all, with links")
    func moderatorCannotClimb() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner()
        let moderator = try await server.member("mod", group: "moderator")
        let member = try await server.member("carol")
        let ownerInvite = try await self.invite(owner, group: "owner")
        let peerInvite = try await self.invite(owner, group: "moderator")
        let memberInvite = try await self.invite(moderator, group: "member")
        let ownerCode = try #require(ownerInvite["code"]?.stringValue)
        let peerCode = try #require(peerInvite["code"]?.stringValue)
        let memberCode = try #require(memberInvite["code"]?.stringValue)
        let before = try await self.stored(server)

        // The moderator's list has only the invite into `member`, shaped like invite_created (link included).
        let seen = try await self.list(moderator)
        let seenCodes = seen.compactMap { $0["code"]?.stringValue }
        #expect(!seenCodes.contains(ownerCode) && !seenCodes.contains(peerCode))
        #expect(seenCodes.contains(memberCode))
        let listed = try #require(seen.first { $0["code"]?.stringValue == memberCode })
        #expect(listed == memberInvite)
        #expect(listed["link"]?.stringValue == server.baseURL + "/#invite=" + memberCode)

        // Revoking what they cannot see is forbidden and changes nothing; the owner's invite still registers.
        for code in [ownerCode, peerCode] {
            let error = try await self.refusal(moderator, "revoke_invite", ["code": .string(code)])
            #expect(error.code == .forbidden)
        }
        let error = try await self.refusal(moderator, "revoke_invite", ["code": .string(ownerCode)])
        #expect(error == CommuneError(.forbidden, "You cannot place members in the group 'owner': its power level is not below yours."))
        #expect(try await self.refusal(member, "list_invites", [:]) == CommuneError(.forbidden, "You need the invite_users permission for this."))
        #expect(try await self.refusal(member, "revoke_invite", ["code": .string(memberCode)]).code == .forbidden)
        #expect(try await self.stored(server) == before)

        // The owner sees every invite, each with its link; revoking below your power works.
        let all = try await self.list(owner)
        for code in [ownerCode, peerCode, memberCode] {
            #expect(all.first { $0["code"]?.stringValue == code }?["link"]?.stringValue == server.baseURL + "/#invite=" + code)
        }
        let revoked = try await moderator.connection.call("revoke_invite", on: self.community, codec: "community", payload: ["code": .string(memberCode)])
        #expect(revoked.payload["code"]?.stringValue == memberCode)
        let second = try await server.member("owner2", invite: ownerCode)
        #expect(second.welcome.group == "owner")
        await server.stopAndRemove()
    }

    @Test("an invite into a group that does not exist is refused, over the wire and from the command line's issuer")
    func unknownGroup() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner()
        let before = try await self.stored(server)
        let error = try await self.refusal(owner, "create_invite", ["group": "ghosts"])
        #expect(error == CommuneError(.notFound, "There is no group 'ghosts': create it first, or invite into an existing group."))
        await #expect(throws: CommuneError(.notFound, "There is no group 'ghosts': create it first, or invite into an existing group.")) {
            try await InviteIssuer.create(in: server.server.store, group: "ghosts")
        }
        #expect(try await self.stored(server) == before)
        // Once the group exists, the same invite works.
        _ = try await owner.connection.call("create_group", on: self.community, codec: "community", payload: ["group": "ghosts", "power": 5])
        #expect(try await self.invite(owner, group: "ghosts")["group"] == "ghosts")
        await server.stopAndRemove()
    }
}
