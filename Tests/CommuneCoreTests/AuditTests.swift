import CommuneCore
import CommuneProtocol
import Foundation
import Testing

/// Every change that is audited records its action word and its target (issue 11 item 6), on the in-memory store:
/// one call by the owner, then exactly one new entry.
@Suite("Audit log: an action word and a target for every audited change")
struct AuditTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var function: String
        var action: AuditAction
        var testDescription: String { "\(self.function) → \(self.action)" }
    }

    static let cases: [Case] = [
        Case(function: "create", action: .create), Case(function: "rename", action: .rename), Case(function: "move", action: .move),
        Case(function: "remove", action: .remove), Case(function: "set_topic", action: .setTopic),
        Case(function: "edit_message", action: .editMessage), Case(function: "remove_message", action: .removeMessage),
        Case(function: "set_username", action: .renameMember), Case(function: "server_mute", action: .serverMute),
        Case(function: "server_unmute", action: .serverUnmute), Case(function: "remove_member", action: .removeMember),
        Case(function: "ban", action: .ban), Case(function: "unban", action: .unban), Case(function: "set_user_group", action: .setGroup),
        Case(function: "create_group", action: .groupCreate), Case(function: "update_group", action: .groupChange),
        Case(function: "update_group (a new group)", action: .groupCreate), Case(function: "remove_group", action: .groupRemove),
        Case(function: "create_invite", action: .inviteCreate), Case(function: "revoke_invite", action: .inviteRevoke),
        Case(function: "set_info", action: .communityInfo), Case(function: "pin_message", action: .pinMessage),
        Case(function: "unpin_message", action: .unpinMessage), Case(function: "set_access", action: .setAccess),
    ]

    @Test(arguments: Self.cases)
    func recorded(_ test: Case) async throws {
        let fixture = try await DomainFixture.make()
        let bob = JSONValue.string(fixture.bob.id.value)
        let invite = try await InviteIssuer.create(in: fixture.store)
        let channelID = try #require(fixture.community.interactable(at: general)).id
        let message = try await fixture.store.appendMessage(NewMessage(channelID: channelID, senderID: fixture.bob.id, text: "hi", sendTime: 1))
        let messageID = JSONValue.int(message.message.messageID)
        if test.function == "unban" {
            _ = try await fixture.call(fixture.owner, "ban", ["user_id": bob])
        }
        if test.function == "unpin_message" {
            _ = try await fixture.call(fixture.owner, "pin_message", at: general, ["message_id": messageID])
        }
        let before = try await fixture.store.auditLog(limit: 100).count
        let community = CommunityFunctions.address
        // The call, and the target the entry must name.
        let (function, address, payload, target): (String, ChannelAddress, JSONValue, String) =
            switch test.function {
            case "create": ("create", ChannelAddress(path: "General", name: "new"), ["codec": .string(TextFunction.codec)], "General/new")
            case "rename": ("rename", general, ["new_name": "renamed"], "General/renamed")
            case "move": ("move", general, ["position": 0], "General/General")
            case "remove": ("remove", general, [:], "General/General")
            case "set_topic": ("set_topic", general, ["topic": "new topic"], "General/General")
            case "edit_message": ("edit_message", general, ["message_id": messageID, "message": "edited"], "General/General")
            case "remove_message": ("remove_message", general, ["message_id": messageID], "General/General")
            case "set_username": ("set_username", community, ["user_id": bob, "username": "robert"], fixture.bob.id.value)
            case "server_mute": ("server_mute", community, ["user_id": bob, "suppress": true], fixture.bob.id.value)
            case "server_unmute": ("server_mute", community, ["user_id": bob, "suppress": false], fixture.bob.id.value)
            case "remove_member": ("remove_member", community, ["user_id": bob], fixture.bob.id.value)
            case "ban": ("ban", community, ["user_id": bob, "reason": "spam"], fixture.bob.id.value)
            case "unban": ("unban", community, ["user_id": bob], fixture.bob.id.value)
            case "set_user_group": ("set_user_group", community, ["user_id": bob, "group": "moderator"], fixture.bob.id.value)
            case "create_group": ("create_group", community, ["group": "helpers"], "helpers")
            case "update_group": ("update_group", community, ["group": "moderator", "power": 40], "moderator")
            case "update_group (a new group)": ("update_group", community, ["group": "helpers", "power": 10], "helpers")
            case "remove_group": ("remove_group", community, ["group": "moderator"], "moderator")
            case "create_invite": ("create_invite", community, [:], "")
            case "revoke_invite": ("revoke_invite", community, ["code": .string(invite.code)], String(invite.code.prefix(6)))
            case "set_info": ("set_info", community, ["name": "Renamed"], "")
            case "pin_message", "unpin_message": (test.function, general, ["message_id": messageID], "General/General")
            case "set_access": ("set_access", general, ["groups": ["moderator"]], "General/General")
            default: throw CommuneError.invalidArgument("no case for \(test.function)")
            }
        let effect = try await fixture.call(fixture.owner, function, at: address, payload)
        let log = try await fixture.store.auditLog(limit: 100)
        #expect(log.count == before + 1, "one entry per change")
        let entry = try #require(log.first)
        #expect(entry.action == test.action)
        #expect(entry.actorID == fixture.owner.id && entry.actorName == "olivia")
        #expect(!entry.text.isEmpty)
        if test.function == "create_invite" {
            // Never the whole secret: its first 6 characters, as the code the reply carries begins.
            let code = try #require(effect.reply.payload["code"]?.stringValue)
            #expect(entry.target == String(code.prefix(6)) && entry.target.count == 6)
            #expect(!entry.text.contains(code))
        } else {
            #expect(entry.target == target)
        }
    }

    @Test("the sentence: what it was, and for a rename or move where it was")
    func text() async throws {
        let fixture = try await DomainFixture.make()
        _ = try await fixture.call(fixture.owner, "server_mute", ["user_id": .string(fixture.bob.id.value), "suppress": true])
        _ = try await fixture.call(fixture.owner, "rename", at: general, ["new_name": "Lobby"])
        let log = try await fixture.store.auditLog(limit: 2)
        #expect(log.map(\.text) == ["renamed text 'General/General' to 'General/Lobby'", "server-muted bob"])
    }

    @Test("changes to yourself are not audited: your own name, your own message")
    func ownChanges() async throws {
        let fixture = try await DomainFixture.make()
        let channelID = try #require(fixture.community.interactable(at: general)).id
        let message = try await fixture.store.appendMessage(NewMessage(channelID: channelID, senderID: fixture.owner.id, text: "hi", sendTime: 1))
        _ = try await fixture.call(fixture.owner, "set_username", ["username": "olive"])
        _ = try await fixture.call(fixture.owner, "edit_message", at: general, ["message_id": .int(message.message.messageID), "message": "hello"])
        #expect(try await fixture.store.auditLog(limit: 10).isEmpty)
    }

    @Test("every word the server writes is distinct, snake_case, and in PROTOCOL.md's list")
    func words() throws {
        let words = AuditAction.all.map(\.rawValue)
        #expect(Set(words).count == words.count)
        #expect(words.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0 == "_" || ("a"..."z").contains($0) } })
        #expect(Set(Self.cases.map(\.action)).union([.other]) == Set(AuditAction.all), "a case for every word")
        let protocolURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/PROTOCOL.md")
        let document = try String(contentsOf: protocolURL, encoding: .utf8)
        let section = try #require(document.range(of: "#### Audit log").map { String(document[$0.lowerBound...].prefix(6_000)) })
        for word in words {
            #expect(section.contains("| `\(word)` |"), "PROTOCOL.md's audit log table lists \(word)")
        }
    }
}
