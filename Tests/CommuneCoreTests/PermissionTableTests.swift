import CommuneCore
import CommuneProtocol
import Testing

/// Every privileged function against every group and power relation, on the in-memory store: allowed calls take
/// effect, refused ones get `forbidden` and change nothing.
@Suite("Permissions: every function × every group relation")
struct PermissionTableTests {
    enum Role: String, CaseIterable, Sendable {
        case member, moderator, owner
    }

    struct TargetedCase: Sendable, CustomTestStringConvertible {
        var function: String
        var actor: Role
        var target: Role
        var allowed: Bool
        var testDescription: String { "\(self.function): \(self.actor) → \(self.target) \(self.allowed ? "allowed" : "forbidden")" }
    }

    /// Functions on another member: the permission, and strictly more power than the target (seed 003). The
    /// default moderator holds rename, mute, remove and ban, not moving members between groups.
    static let targetedCases: [TargetedCase] = {
        let expected: [String: [Role: [Role]]] = [
            "set_username": [.moderator: [.member], .owner: [.member, .moderator]],
            "server_mute": [.moderator: [.member], .owner: [.member, .moderator]],
            "remove_member": [.moderator: [.member], .owner: [.member, .moderator]],
            "ban": [.moderator: [.member], .owner: [.member, .moderator]],
            "set_user_group": [.owner: [.member, .moderator]],
        ]
        return expected.keys.sorted().flatMap { function in
            Role.allCases.flatMap { actor in
                Role.allCases.map { target in
                    TargetedCase(function: function, actor: actor, target: target, allowed: expected[function]![actor]?.contains(target) ?? false)
                }
            }
        }
    }()

    struct PlainCase: Sendable, CustomTestStringConvertible {
        var function: String
        var actor: Role
        var allowed: Bool
        var testDescription: String { "\(self.function): \(self.actor) \(self.allowed ? "allowed" : "forbidden")" }
    }

    /// Functions with no member target: who may call them.
    static let plainCases: [PlainCase] = {
        let allowed: [String: [Role]] = [
            "create": [.owner], "rename": [.owner], "set_access": [.owner], "set_topic": [.moderator, .owner], "update_group": [.owner],
            "create_invite": [.moderator, .owner], "list_invites": [.moderator, .owner], "revoke_invite": [.moderator, .owner],
            "set_info": [.owner], "get_audit_log": [.owner], "get_bans": [.moderator, .owner], "unban": [.moderator, .owner],
            "edit_message": [.moderator, .owner], "remove_message": [.moderator, .owner],
            "pin_message": [.moderator, .owner], "unpin_message": [.moderator, .owner],
            Self.mentionEveryone: [.moderator, .owner],
        ]
        return allowed.keys.sorted().flatMap { function in
            Role.allCases.map { PlainCase(function: function, actor: $0, allowed: allowed[function]!.contains($0)) }
        }
    }()

    func member(_ role: Role, in fixture: DomainFixture) -> Member {
        switch role {
        case .member: fixture.alice
        case .moderator: fixture.moderator
        case .owner: fixture.owner
        }
    }

    @Test(arguments: Self.targetedCases)
    func targeted(_ test: TargetedCase) async throws {
        let fixture = try await DomainFixture.make()
        let actor = self.member(test.actor, in: fixture)
        // Acting on an equal: another member of the same group.
        var target = self.member(test.target, in: fixture)
        if target.id == actor.id {
            target = [fixture.bob, fixture.moderator2, fixture.owner2].first { $0.group == actor.group }!
        }
        var payload: [String: JSONValue] = ["user_id": .string(target.id.value)]
        switch test.function {
        case "set_username": payload["username"] = "renamed"
        case "server_mute": payload["suppress"] = true
        case "set_user_group": payload["group"] = "member"
        default: break
        }
        try await self.expect(test.allowed, fixture: fixture) { () async throws(CommuneError) -> Effect in
            try await fixture.call(actor, test.function, .object(payload))
        }
    }

    @Test(arguments: Self.plainCases)
    func plain(_ test: PlainCase) async throws {
        let fixture = try await DomainFixture.make()
        let actor = self.member(test.actor, in: fixture)
        let invite = try await InviteIssuer.create(in: fixture.store)
        let message = try await fixture.store.appendMessage(
            NewMessage(channelID: try self.generalID(fixture), senderID: fixture.bob.id, text: "hi", sendTime: 1)
        )
        let (address, payload): (ChannelAddress, JSONValue) =
            switch test.function {
            case "create": (ChannelAddress(path: "General", name: "new"), ["codec": .string(TextFunction.codec)])
            case "rename": (general, ["new_name": "renamed"])
            case "set_access": (general, ["groups": ["moderator"]])
            case "set_topic": (general, ["topic": "new topic"])
            case "edit_message": (general, ["message_id": .int(message.message.messageID), "message": "edited"])
            case "remove_message", "pin_message", "unpin_message": (general, ["message_id": .int(message.message.messageID)])
            case "update_group": (CommunityFunctions.address, ["group": "helpers", "power": 10])
            case "revoke_invite": (CommunityFunctions.address, ["code": .string(invite.code)])
            case "set_info": (CommunityFunctions.address, ["name": "Renamed"])
            case "unban": (CommunityFunctions.address, ["user_id": .string(fixture.bob.id.value)])
            case Self.mentionEveryone: (general, ["message": "@everyone look"])
            default: (CommunityFunctions.address, [:])
            }
        if test.function == "unpin_message" {
            let pin = Pin(channelID: try self.generalID(fixture), messageID: message.message.messageID, pinnedBy: fixture.owner.id, time: 1)
            _ = try await fixture.store.pin(pin, limit: 50)
        }
        if test.function == "unban" {
            let ban = Ban(userID: fixture.bob.id, publicKey: fixture.bob.publicKey, username: "bob", reason: "", bannedBy: fixture.owner.id, bannedByName: "olivia", time: 1)
            _ = try await fixture.store.removeMember(fixture.bob.id, ban: ban, vengeance: false)
        }
        try await self.expect(test.allowed, fixture: fixture) { () async throws(CommuneError) -> Effect in
            try await fixture.call(actor, test.function == Self.mentionEveryone ? TextFunction.sendMessage : test.function, at: address, payload)
        }
    }

    /// `send_message` mentioning `@everyone` (needs `mention_everyone`).
    static let mentionEveryone = "send_message @everyone"

    func generalID(_ fixture: DomainFixture) throws -> Int64 {
        try #require(fixture.community.interactable(at: general)).id
    }

    func expect(_ allowed: Bool, fixture: DomainFixture, _ body: () async throws(CommuneError) -> Effect) async throws {
        let before = try await fixture.snapshot()
        do {
            _ = try await body()
            #expect(allowed, "the call was allowed")
        } catch {
            #expect(!allowed, "refused: \(error)")
            #expect(error.code == .forbidden, "\(error)")
            #expect(try await fixture.snapshot() == before, "a refused call changed what is stored")
        }
    }
}
