import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Testing

/// Every privileged function is checked on the server: a member without the right gets `forbidden` and nothing
/// changes; a moderator cannot act on an equal or higher power level.
@Suite("Groups, permissions and power levels")
struct PermissionTests {
    let general = ChannelAddress(path: "General", name: "General")
    let community = ChannelAddress(path: "", name: "")

    func forbidden(_ client: Client, _ function: String, on address: ChannelAddress, codec: String? = nil, payload: JSONValue = [:])
        async throws -> CommuneError
    {
        do {
            _ = try await client.connection.call(function, on: address, codec: codec, payload: payload)
            Issue.record("\(function) on '\(address)' was allowed")
            return CommuneError(.internalError, "allowed")
        } catch let error as CommuneError {
            #expect(error.code == .forbidden, "\(function): \(error)")
            return error
        }
    }

    /// What a member can observe: the tree, groups, invites, the owner's message, the audit log.
    func snapshot(_ server: TestServer, _ observer: Client) async throws -> [String] {
        let tree = try await server.connect()
        let welcome = try await tree.login(observer.identity)
        var lines: [String] = []
        InteractableNode.walk(welcome.interactables) { path, node in
            lines.append("\(path)/\(node.name):\(node.codec):\(node.position):\(JSONValue.object(node.data).jsonString)")
        }
        let groups = try await observer.connection.call("get_groups", on: self.community, codec: "community")
        lines.append(groups.payload.jsonString)
        let invites = try await server.server.store.invites()
        lines.append(invites.map { "\($0.code):\($0.usesLeft):\($0.revoked)" }.sorted().joined(separator: ","))
        let members = try await server.server.store.members()
        lines.append(members.map { "\($0.username):\($0.group):\($0.status):\($0.suppressed)" }.sorted().joined(separator: ","))
        lines.append(try await observer.connection.community("get_info").payload.jsonString)
        lines.append(try await server.server.store.bans().map(\.username).joined(separator: ","))
        let messages = try await observer.connection.messages(in: self.general)
        lines.append(messages.map { "\($0.messageID):\($0.message):\($0.senderID?.value ?? "-")" }.joined(separator: ","))
        lines.append(String(try await server.server.store.auditLog(limit: 100).count))
        await tree.close()
        return lines
    }

    @Test("a plain member is refused every privileged function, and nothing changes")
    func memberIsForbidden() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner()
        let bob = try await server.member("bob")
        let ownerMessage = try await owner.connection.sendMessage("owner's words", to: self.general)
        let banned = try await server.member("banned")
        try await owner.connection.remove(banned.identity.userID, ban: true)
        let invite = try await owner.connection.call("create_invite", on: self.community, codec: "community")
        let code = try #require(invite.payload["code"]?.stringValue)
        let before = try await self.snapshot(server, owner)

        _ = try await self.forbidden(bob, "create", on: ChannelAddress(path: "General", name: "new"), payload: ["codec": "text"])
        _ = try await self.forbidden(bob, "rename", on: self.general, payload: ["new_name": "mine"])
        _ = try await self.forbidden(bob, "move", on: self.general, payload: ["parent_path": "", "position": 0])
        _ = try await self.forbidden(bob, "remove", on: ChannelAddress(path: "", name: "Rules"))
        _ = try await self.forbidden(bob, "update_group", on: self.community, payload: ["group": "member", "changes": [["add": "ban_users"]]])
        _ = try await self.forbidden(bob, "remove_group", on: self.community, payload: ["group": "moderator"])
        _ = try await self.forbidden(
            bob, "set_user_group", on: self.community, payload: ["user_id": .string(bob.identity.userID.value), "group": "moderator"]
        )
        _ = try await self.forbidden(bob, "create_invite", on: self.community)
        _ = try await self.forbidden(bob, "list_invites", on: self.community)
        _ = try await self.forbidden(bob, "revoke_invite", on: self.community, payload: ["code": .string(code)])
        _ = try await self.forbidden(bob, "get_audit_log", on: self.community)
        _ = try await self.forbidden(bob, "edit_message", on: self.general, payload: ["message_id": .int(ownerMessage.messageID), "message": "hacked"])
        _ = try await self.forbidden(bob, "remove_message", on: self.general, payload: ["message_id": .int(ownerMessage.messageID)])
        let ownerID = JSONValue.string(owner.identity.userID.value)
        _ = try await self.forbidden(bob, "set_username", on: self.community, payload: ["user_id": ownerID, "username": "pwned"])
        _ = try await self.forbidden(bob, "server_mute", on: self.community, payload: ["user_id": ownerID, "suppress": true])
        _ = try await self.forbidden(bob, "remove_member", on: self.community, payload: ["user_id": ownerID, "vengeance": true])
        _ = try await self.forbidden(bob, "ban", on: self.community, payload: ["user_id": ownerID])
        _ = try await self.forbidden(bob, "get_bans", on: self.community)
        _ = try await self.forbidden(bob, "unban", on: self.community, payload: ["user_id": .string(banned.identity.userID.value)])
        _ = try await self.forbidden(bob, "set_info", on: self.community, payload: ["name": "Bob's", "public": true])
        _ = try await self.forbidden(bob, "create_group", on: self.community, payload: ["group": "bobs"])
        _ = try await self.forbidden(bob, "set_topic", on: self.general, payload: ["topic": "bob was here"])
        _ = try await self.forbidden(bob, "set_topic", on: ChannelAddress(path: "General", name: "VC-1"), payload: ["topic": "bob was here"])
        _ = try await self.forbidden(bob, "create", on: ChannelAddress(path: "", name: "link"), payload: ["codec": "link", "kind": "community", "target": "https://x.example"])
        let error = try await self.forbidden(bob, "create_invite", on: self.community)
        #expect(error.message == "You need the invite_users permission for this.")

        #expect(try await self.snapshot(server, owner) == before)
        // Declined requests are not garbage: bob is still connected and may do what members may.
        _ = try await bob.connection.sendMessage("still here", to: self.general)
        await server.stopAndRemove()
    }

    @Test("a moderator cannot act on an equal or higher power level, nor hand out more than they have")
    func powerLevels() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner()
        let moderator = try await server.member("mod", group: "moderator")
        let otherModerator = try await server.member("mod2", group: "moderator")
        let member = try await server.member("carol")
        let ownerMessage = try await owner.connection.sendMessage("owner", to: self.general)
        let peerMessage = try await otherModerator.connection.sendMessage("peer", to: self.general)
        let memberMessage = try await member.connection.sendMessage("spam", to: self.general)
        let before = try await self.snapshot(server, owner)

        _ = try await self.forbidden(moderator, "remove_message", on: self.general, payload: ["message_id": .int(ownerMessage.messageID)])
        _ = try await self.forbidden(moderator, "edit_message", on: self.general, payload: ["message_id": .int(peerMessage.messageID), "message": "x"])
        _ = try await self.forbidden(moderator, "create_invite", on: self.community, payload: ["group": "owner"])
        _ = try await self.forbidden(moderator, "create_invite", on: self.community, payload: ["group": "moderator"])
        _ = try await self.forbidden(
            moderator, "set_user_group", on: self.community, payload: ["user_id": .string(member.identity.userID.value), "group": "moderator"]
        )
        for target in [owner, otherModerator] {
            let id = JSONValue.string(target.identity.userID.value)
            _ = try await self.forbidden(moderator, "ban", on: self.community, payload: ["user_id": id])
            _ = try await self.forbidden(moderator, "remove_member", on: self.community, payload: ["user_id": id])
            _ = try await self.forbidden(moderator, "set_username", on: self.community, payload: ["user_id": id, "username": "x"])
            _ = try await self.forbidden(moderator, "server_mute", on: self.community, payload: ["user_id": id, "suppress": true])
        }
        #expect(try await self.snapshot(server, owner) == before)

        // Below them, the moderator may act: remove the member's message; invite plain members.
        let observer = member.events
        let removed = try await moderator.connection.call(
            "remove_message", on: self.general, codec: "text", payload: ["message_id": .int(memberMessage.messageID)]
        )
        #expect(removed.result == "message_removed")
        let update = try await observer.nextUpdate("message_removed")
        #expect(update.payload["message"] == "*Message Removed*")
        #expect(update.payload["sender_id"] == .null)
        let invite = try await moderator.connection.call("create_invite", on: self.community, codec: "community", payload: ["uses": 3])
        #expect(invite.payload["group"] == "member")
        #expect(invite.payload["uses_left"] == 3)
        #expect(invite.payload["link"]?.stringValue?.hasPrefix(server.baseURL + "/#invite=") == true)
        await server.stopAndRemove()
    }

    @Test("a removed group leaves its members with no permissions; unknown groups may be assigned")
    func groups() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner()
        let helper = try await server.member("helper")
        _ = try await owner.connection.call(
            "update_group", on: self.community, codec: "community",
            payload: ["group": "helpers", "power": 10, "changes": [["add": "invite_users"], ["add": "set_topic"], ["remove": "set_topic"]]]
        )
        let moved = try await owner.connection.call(
            "set_user_group", on: self.community, codec: "community", payload: ["user_id": .string(helper.identity.userID.value), "group": "helpers"]
        )
        #expect(moved.payload["group"] == "helpers")
        let changed = try await helper.events.nextUpdate("member_changed")
        #expect(changed.payload["group"] == "helpers")
        _ = try await helper.connection.call("create_invite", on: self.community, codec: "community")

        _ = try await owner.connection.call("remove_group", on: self.community, codec: "community", payload: ["group": "helpers"])
        _ = try await self.forbidden(helper, "create_invite", on: self.community)
        #expect(try await server.server.store.members().first { $0.username == "helper" }?.group == "helpers")

        let unknown = try await owner.connection.call(
            "set_user_group", on: self.community, codec: "community", payload: ["user_id": .string(helper.identity.userID.value), "group": "not-yet"]
        )
        #expect(unknown.payload["group"] == "not-yet")
        do {
            _ = try await owner.connection.call(
                "update_group", on: self.community, codec: "community", payload: ["group": "x", "changes": [["add": "fly"]]]
            )
            Issue.record("an unknown permission was accepted")
        } catch let error as CommuneError {
            #expect(error.code == .invalidArgument)
        }
        await server.stopAndRemove()
    }
}
