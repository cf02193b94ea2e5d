import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Foundation
import Testing

/// Private channels over the wire (`set_access`, `create`'s `access`): who sees a channel in the tree, live, and
/// every request naming it refused to the others exactly as a channel that does not exist.
@Suite("Private channels")
struct PrivateChannelTests {
    let general = ChannelAddress(path: "General", name: "General")
    let voice = ChannelAddress(path: "General", name: "VC-1")
    let rules = ChannelAddress(path: "", name: "Rules")

    /// Owner olivia; alice in `staff` (power 60, `manage_channels`); bob a plain member; carol a moderator (50).
    struct Cast {
        let server: TestServer
        let owner: Client
        let alice: Client
        let bob: Client
        let carol: Client
    }

    func cast(_ configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> Cast {
        let server = try await TestServer.start(configure: configure)
        let owner = try await server.owner("olivia")
        try await owner.connection.community("create_group", ["group": "staff", "power": 60, "changes": [["add": "manage_channels"]]])
        let alice = try await server.member("alice", group: "staff")
        let bob = try await server.member("bob")
        let carol = try await server.member("carol", group: "moderator")
        return Cast(server: server, owner: owner, alice: alice, bob: bob, carol: carol)
    }

    /// Every node of a tree as `path/name` with its `access` (`nil`: everyone), in tree order.
    static func nodes(_ tree: [InteractableNode]) -> [String] {
        var names: [String] = []
        InteractableNode.walk(tree) { path, node in
            let name = path.isEmpty ? node.name : "\(path)/\(node.name)"
            names.append(node.access.map { "\(name) [\($0.joined(separator: ","))]" } ?? name)
        }
        return names
    }

    static func nodes(_ update: FunctionResult) throws -> [String] {
        self.nodes(try InteractableNode.decodeTree(update.payload["interactables"] ?? [:]))
    }

    /// The tree a fresh login of `client`'s member gets.
    func loginTree(_ server: TestServer, _ client: Client) async throws -> [InteractableNode] {
        let connection = try await server.connect()
        defer { Task { await connection.close() } }
        return try await connection.login(client.identity).interactables
    }

    /// The updates `client` receives until `sentinel`'s `message_live` in Rules arrives (sent after the actions
    /// under test, so whatever they pushed to `client` came before it).
    func updatesUntilSentinel(_ client: Client, from sender: Client, _ sentinel: String) async throws -> [FunctionResult] {
        try await sender.connection.sendMessage(sentinel, to: self.rules)
        var seen: [FunctionResult] = []
        for _ in 0..<500 {
            guard let envelope = try await client.events.next() else { break }
            guard envelope.type == .update, let update = try? FunctionResult(data: envelope.data) else { continue }
            if update.result == TextFunction.messageLive, update.address == self.rules, update.payload["message"]?.stringValue == sentinel {
                return seen
            }
            seen.append(update)
        }
        Issue.record("the sentinel '\(sentinel)' never arrived")
        return seen
    }

    /// Runs `body` and returns the error it throws (recording an issue when it does not throw one).
    func error(_ body: () async throws -> Void) async -> CommuneError? {
        do {
            try await body()
            Issue.record("expected an error")
        } catch let error as CommuneError {
            return error
        } catch {
            Issue.record("unexpected \(error)")
        }
        return nil
    }

    @Test("a channel made private disappears live for those who lose it and comes back when opened; a new login sees the same")
    func liveTree() async throws {
        let cast = try await self.cast()
        defer { Task { await cast.server.stopAndRemove() } }
        let reply = try await cast.alice.connection.call("set_access", on: self.general, payload: ["groups": ["staff"]])
        #expect(reply.result == "access_changed" && reply.address == self.general && reply.payload["access"] == ["staff"])
        let everything = ["General", "General/General [staff]", "General/VC-1", "Rules"]
        let without = ["General", "General/VC-1", "Rules"]
        #expect(try Self.nodes(try await cast.bob.events.nextUpdate("tree_changed")) == without)
        #expect(try Self.nodes(try await cast.carol.events.nextUpdate("tree_changed")) == without)
        #expect(try Self.nodes(try await cast.alice.events.nextUpdate("tree_changed")) == everything)
        #expect(try Self.nodes(try await cast.owner.events.nextUpdate("tree_changed")) == everything)
        // Positions count what each sees: VC-1 is first in General for Bob.
        let bobsGeneral = try #require(try await self.loginTree(cast.server, cast.bob).first { $0.name == "General" })
        #expect(bobsGeneral.children.map(\.name) == ["VC-1"] && bobsGeneral.children.map(\.position) == [0])
        #expect(Self.nodes(try await self.loginTree(cast.server, cast.alice)) == everything)

        // A member moved into staff sees it at once; moved out, no more.
        try await cast.owner.connection.community("set_user_group", ["user_id": .string(cast.bob.identity.userID.value), "group": "staff"])
        #expect(try Self.nodes(try await cast.bob.events.nextUpdate("tree_changed")) == everything)
        try await cast.owner.connection.community("set_user_group", ["user_id": .string(cast.bob.identity.userID.value), "group": "member"])
        #expect(try Self.nodes(try await cast.bob.events.nextUpdate("tree_changed")) == without)

        // Opened to everyone: it appears again.
        let opened = try await cast.alice.connection.call("set_access", on: self.general, payload: ["groups": .null])
        #expect(opened.payload["access"] == .null)
        #expect(try Self.nodes(try await cast.bob.events.nextUpdate("tree_changed")) == ["General", "General/General", "General/VC-1", "Rules"])
        #expect(Self.nodes(try await self.loginTree(cast.server, cast.bob)) == ["General", "General/General", "General/VC-1", "Rules"])
    }

    @Test("a category's restriction holds for everything in it; created private with create's access")
    func category() async throws {
        let cast = try await self.cast()
        defer { Task { await cast.server.stopAndRemove() } }
        _ = try await cast.alice.connection.call("create", on: ChannelAddress(path: "", name: "Staff"), payload: ["codec": "category", "access": ["staff", "moderator"]])
        _ = try await cast.alice.connection.call("create", on: ChannelAddress(path: "Staff", name: "plans"), payload: ["codec": "text"])
        let room = ChannelAddress(path: "Staff", name: "plans")
        // Carol (moderator) sees the category and the channel; Bob neither.
        #expect(Self.nodes(try await self.loginTree(cast.server, cast.carol)).contains("Staff/plans"))
        #expect(!Self.nodes(try await self.loginTree(cast.server, cast.bob)).contains { $0.hasPrefix("Staff") })
        _ = try await cast.carol.connection.sendMessage("the secret plan", to: room)
        await expectError(.notFound) { _ = try await cast.bob.connection.sendMessage("let me in", to: room) }
        // The channel restricted further inside: only staff now (the intersection).
        _ = try await cast.alice.connection.call("set_access", on: room, payload: ["groups": ["staff"]])
        #expect(!Self.nodes(try await self.loginTree(cast.server, cast.carol)).contains("Staff/plans [staff]"))
        #expect(Self.nodes(try await self.loginTree(cast.server, cast.carol)).contains("Staff [moderator,staff]"))
        #expect(Self.nodes(try await self.loginTree(cast.server, cast.alice)).contains("Staff/plans [staff]"))
        // A create under a category Alice cannot see (the owner's alone) is answered as under none; Bob may create
        // nowhere.
        _ = try await cast.owner.connection.call("create", on: ChannelAddress(path: "", name: "Vault"), payload: ["codec": "category", "access": []])
        await expectError(.notFound) {
            _ = try await cast.alice.connection.call("create", on: ChannelAddress(path: "Vault", name: "mine"), payload: ["codec": "text"])
        }
        await expectError(.forbidden) {
            _ = try await cast.bob.connection.call("create", on: ChannelAddress(path: "Staff", name: "mine"), payload: ["codec": "text"])
        }
        #expect(!Self.nodes(try await self.loginTree(cast.server, cast.owner)).contains { $0.hasSuffix("/mine") })
    }

    @Test("every request naming a channel the member cannot see: the same error as a channel that does not exist, nothing changed")
    func everyRequestRefused() async throws {
        let cast = try await self.cast()
        defer { Task { await cast.server.stopAndRemove() } }
        let first = try await cast.alice.connection.sendMessage("before it was private", to: self.general)
        _ = try await cast.owner.connection.call("pin_message", on: self.general, codec: "text", payload: ["message_id": .int(first.messageID)])
        _ = try await cast.alice.connection.call("set_access", on: self.general, payload: ["groups": ["staff"]])
        let before = try await cast.alice.connection.messages(in: self.general)
        let missing = ChannelAddress(path: "General", name: "Nowhere")
        let id = JSONValue.int(first.messageID)
        let requests: [(String, JSONValue)] = [
            ("send_message", ["message": "hello"]), ("get_messages", [:]), ("edit_message", ["message_id": id, "message": "changed"]),
            ("remove_message", ["message_id": id]), ("add_reaction", ["message_id": id, "emoji": "👍"]),
            ("remove_reaction", ["message_id": id, "emoji": "👍"]), ("get_reactors", ["message_id": id, "emoji": "👍"]),
            ("pin_message", ["message_id": id]), ("unpin_message", ["message_id": id]), ("get_pins", [:]), ("typing", [:]),
            ("mark_read", ["message_id": id]), ("set_topic", ["topic": "mine"]), ("rename", ["new_name": "Taken"]),
            ("move", ["position": 0]), ("remove", [:]), ("set_access", ["groups": .null]),
        ]
        for (function, payload) in requests {
            for codec in ["text", nil] as [String?] {
                let hidden = await self.error { _ = try await cast.bob.connection.call(function, on: self.general, codec: codec, payload: payload) }
                let absent = await self.error { _ = try await cast.bob.connection.call(function, on: missing, codec: codec, payload: payload) }
                #expect(hidden?.code == .notFound, "\(function)")
                #expect(hidden?.message == absent?.message.replacingOccurrences(of: "Nowhere", with: "General"), "\(function)")
            }
            // Declined requests do not close the connection; a good one keeps it honest.
            _ = try await cast.bob.connection.sendMessage("still here", to: self.rules)
        }
        // Carol has the pin and change permissions, and is refused the same way.
        await expectError(.notFound) { _ = try await cast.carol.connection.call("remove_message", on: self.general, payload: ["message_id": id]) }
        #expect(try await cast.alice.connection.messages(in: self.general) == before)
        let pins = try await cast.alice.connection.call("get_pins", on: self.general, codec: "text")
        #expect(pins.payload["pins"]?.arrayValue?.count == 1)
        #expect(Self.nodes(try await self.loginTree(cast.server, cast.alice)).contains("General/General [staff]"))
    }

    @Test("nothing about a private channel reaches those who cannot see it: messages, edits, reactions, pins, typing, topic")
    func noUpdatesLeak() async throws {
        let cast = try await self.cast()
        defer { Task { await cast.server.stopAndRemove() } }
        _ = try await cast.alice.connection.call("set_access", on: self.general, payload: ["groups": ["staff"]])
        _ = try await cast.bob.events.nextUpdate("tree_changed")
        try await cast.owner.connection.community("set_user_group", ["user_id": .string(cast.carol.identity.userID.value), "group": "staff"])
        _ = try await cast.carol.events.nextUpdate("tree_changed")
        let bobID = cast.bob.identity.userID.value
        // The owner writes (she may mention everyone, pin and set topics), Alice types.
        let sent = try await cast.owner.connection.sendMessage("hello <@\(bobID)> and @everyone", to: self.general)
        let id = JSONValue.int(sent.messageID)
        _ = try await cast.owner.connection.call("edit_message", on: self.general, payload: ["message_id": id, "message": .string("edited for <@\(bobID)> and @everyone")])
        _ = try await cast.alice.connection.react("👍", to: sent.messageID, in: self.general)
        _ = try await cast.owner.connection.call("pin_message", on: self.general, payload: ["message_id": id])
        try await cast.alice.connection.typing(in: self.general)
        try await cast.owner.connection.setTopic("staff only", of: self.general)
        let bobSaw = try await self.updatesUntilSentinel(cast.bob, from: cast.alice, "sentinel")
        #expect(!bobSaw.contains { $0.address == self.general }, "\(bobSaw.map(\.result))")
        // Carol (now staff) saw each of them.
        let carolSaw = try await self.updatesUntilSentinel(cast.carol, from: cast.alice, "sentinel 2")
        let results = Set(carolSaw.filter { $0.address == self.general }.map(\.result))
        #expect(results.isSuperset(of: ["message_live", "message_edited", "reaction_changed", "pin_changed", "member_typing", "topic_changed"]))
        // Mentioned where he cannot read: not counted, not listed.
        let state = try await cast.bob.connection.readState()
        #expect(!state.contains { $0.channel == self.general })
        #expect(state.allSatisfy { $0.mentions == 0 })
        let carolsState = try await cast.carol.connection.readState()
        #expect(carolsState.first { $0.channel == self.general }?.mentions == 1, "@everyone reaches those who can read it")
    }

    @Test("search does not find a word in a channel the member cannot read, while a member who can read finds it")
    func search() async throws {
        let cast = try await self.cast()
        defer { Task { await cast.server.stopAndRemove() } }
        let secret = try await cast.alice.connection.sendMessage("the quokka sleeps in General", to: self.general)
        _ = try await cast.alice.connection.sendMessage("a quokka in the rules", to: self.rules)
        #expect(try await cast.bob.connection.search("quokka").results.count == 2)
        _ = try await cast.alice.connection.call("set_access", on: self.general, payload: ["groups": ["staff"]])
        // Bob: only the one in Rules; by the channel or its category, as for a channel that does not exist.
        #expect(try await cast.bob.connection.search("quokka").results.map(\.channel) == [self.rules])
        #expect(try await cast.bob.connection.search("sleeps").results.isEmpty)
        await expectError(.notFound) { _ = try await cast.bob.connection.search("quokka", channel: self.general) }
        #expect(try await cast.bob.connection.search("quokka", channel: ChannelAddress(path: "", name: "General")).results.isEmpty)
        // Alice (staff) and the owner find both.
        let found = try await cast.alice.connection.search("quokka").results
        #expect(found.map(\.messageID).contains(secret.messageID) && found.count == 2)
        #expect(try await cast.owner.connection.search("sleeps").results.map(\.channel) == [self.general])
        // A whole category made private hides what is in it too.
        _ = try await cast.alice.connection.call("set_access", on: self.general, payload: ["groups": .null])
        #expect(try await cast.bob.connection.search("sleeps").results.count == 1)
        _ = try await cast.alice.connection.call("set_access", on: ChannelAddress(path: "", name: "General"), payload: ["groups": ["staff"]])
        #expect(try await cast.bob.connection.search("sleeps").results.isEmpty)
        #expect(try await cast.alice.connection.search("sleeps").results.count == 1)
    }

    @Test("set_access refused: without manage_channels, hiding from a group at or above your power, unknown groups, bad payloads; nothing changes")
    func refusals() async throws {
        let cast = try await self.cast()
        defer { Task { await cast.server.stopAndRemove() } }
        try await cast.owner.connection.community("create_group", ["group": "admin", "power": 80])
        let tree = Self.nodes(try await self.loginTree(cast.server, cast.owner))
        let refusals: [(Client, ChannelAddress, JSONValue, ErrorCode)] = [
            (cast.bob, self.general, ["groups": ["member"]], .forbidden),  // no manage_channels
            (cast.carol, self.general, ["groups": ["moderator"]], .forbidden),  // a moderator has no manage_channels
            (cast.alice, self.general, ["groups": ["member"]], .forbidden),  // hides it from staff (her own power) and admin
            (cast.alice, self.general, ["groups": ["staff"]], .forbidden),  // hides it from admin (80, above her 60)
            (cast.alice, self.general, ["groups": []], .forbidden),  // the owner only: hides it from staff and admin
            (cast.alice, self.general, ["groups": ["staff", "admin", "ghosts"]], .notFound),  // no such group
            // Hostile names are no group's: a bidi override, a zero-width space, 10,000 characters, a line break.
            (cast.alice, self.general, ["groups": ["staff", "admin", "st\u{202E}aff"]], .notFound),
            (cast.alice, self.general, ["groups": ["staff", "admin", "sta\u{200B}ff"]], .notFound),
            (cast.alice, self.general, ["groups": ["staff", "admin", .string(String(repeating: "s", count: 10_000))]], .notFound),
            (cast.alice, self.general, ["groups": ["staff", "admin", "staff\nmember"]], .notFound),
            (cast.alice, self.general, [:], .invalidArgument),
            (cast.alice, self.general, ["groups": "staff"], .invalidArgument),
            (cast.alice, self.general, ["groups": [5]], .invalidArgument),
            (cast.alice, self.general, ["groups": .array(Array(repeating: "staff", count: 33))], .invalidArgument),
            (cast.alice, ChannelAddress(path: "", name: "Staff"), ["codec": "category", "access": ["staff"]], .forbidden),  // create
        ]
        for (client, address, payload, code) in refusals {
            let function = payload["codec"] == nil ? "set_access" : "create"
            await expectError(code) { _ = try await client.connection.call(function, on: address, payload: payload) }
            _ = try await client.connection.sendMessage("still here", to: self.rules)
        }
        #expect(Self.nodes(try await self.loginTree(cast.server, cast.owner)) == tree)
        // Allowed: every group at or above her power kept.
        _ = try await cast.alice.connection.call("set_access", on: self.general, payload: ["groups": ["staff", "admin"]])
        #expect(Self.nodes(try await self.loginTree(cast.server, cast.owner)).contains("General/General [admin,staff]"))
        let audit = try await cast.owner.connection.community("get_audit_log")
        let entry = try #require(audit.payload["entries"]?.arrayValue?.first)
        #expect(entry["action"]?.stringValue == "set_access" && entry["target"]?.stringValue == "General/General")
    }

    @Test("what a channel manager cannot do with channels above them: unseen ones not found, no move that hides, no removal of what they cannot see")
    func channelsAboveYou() async throws {
        let cast = try await self.cast()
        defer { Task { await cast.server.stopAndRemove() } }
        try await cast.owner.connection.community("create_group", ["group": "admin", "power": 80])
        // The owner's: a channel for admins only, inside General; a category for staff only (admins not in it).
        _ = try await cast.owner.connection.call("create", on: ChannelAddress(path: "General", name: "board"), payload: ["codec": "text", "access": ["admin"]])
        _ = try await cast.owner.connection.call("create", on: ChannelAddress(path: "", name: "Back"), payload: ["codec": "category", "access": ["staff"]])
        let tree = Self.nodes(try await self.loginTree(cast.server, cast.owner))
        let board = ChannelAddress(path: "General", name: "board")
        // Not found, as if it did not exist: she cannot grant herself the admins' channel, nor move or rename it.
        await expectError(.notFound) { _ = try await cast.alice.connection.call("set_access", on: board, payload: ["groups": ["staff", "admin"]]) }
        await expectError(.notFound) { _ = try await cast.alice.connection.call("move", on: board, payload: ["parent_path": ""]) }
        await expectError(.notFound) { _ = try await cast.alice.connection.call("rename", on: board, payload: ["new_name": "mine"]) }
        // Removing General would remove the admins' channel she cannot see.
        await expectError(.forbidden) { _ = try await cast.alice.connection.call("remove", on: ChannelAddress(path: "", name: "General")) }
        // Moving Rules into Back would hide it from admin.
        await expectError(.forbidden) { _ = try await cast.alice.connection.call("move", on: self.rules, payload: ["parent_path": "Back"]) }
        #expect(Self.nodes(try await self.loginTree(cast.server, cast.owner)) == tree)
        #expect(try await cast.owner.connection.messages(in: board).isEmpty)
        // Positions she gives count the siblings she sees (VC-1, then General/General); the hidden board keeps its place.
        _ = try await cast.alice.connection.call("move", on: self.general, payload: ["position": 1])
        let general = try #require(try await self.loginTree(cast.server, cast.alice).first { $0.name == "General" })
        #expect(general.children.map(\.name) == ["VC-1", "General"] && general.children.map(\.position) == [0, 1])
    }

    @Test("voice: a channel made private ends the call of those who lose it (no_access); joining and its members are hidden")
    func voice() async throws {
        let cast = try await self.cast()
        defer { Task { await cast.server.stopAndRemove() } }
        let joined = try await cast.bob.connection.call("join_call", on: self.voice, codec: "voice")
        #expect(joined.result == "call_joined")
        _ = try await cast.carol.events.nextUpdate("user_changed")
        _ = try await cast.alice.connection.call("set_access", on: self.voice, payload: ["groups": ["staff", "moderator"]])
        let ended = try await cast.bob.events.nextUpdate("call_ended")
        #expect(ended.payload["reason"]?.stringValue == "no_access" && ended.address == self.voice)
        let left = try await cast.carol.events.nextUpdate("user_left")
        #expect(left.payload["reason"]?.stringValue == "no_access" && left.payload["user_id"]?.stringValue == cast.bob.identity.userID.value)
        await expectError(.notFound) { _ = try await cast.bob.connection.call("join_call", on: self.voice, codec: "voice") }
        // Alice joins: Carol sees it, Bob does not (neither live nor in his tree).
        _ = try await cast.alice.connection.call("join_call", on: self.voice, codec: "voice")
        #expect(try await cast.carol.events.nextUpdate("user_changed").payload["user_id"]?.stringValue == cast.alice.identity.userID.value)
        let bobSaw = try await self.updatesUntilSentinel(cast.bob, from: cast.alice, "after the join")
        #expect(!bobSaw.contains { $0.address == self.voice })
        let carolsVoice = try await self.loginTree(cast.server, cast.carol).first { $0.name == "General" }?.children.first { $0.name == "VC-1" }
        #expect(carolsVoice?.data["active_users"]?.objectValue?.keys.contains(cast.alice.identity.userID.value) == true)
        #expect(Self.nodes(try await self.loginTree(cast.server, cast.bob)) == ["General", "General/General", "Rules"])
        // Carol moved to a group that is not let in: out of the tree, and out of the call she was in.
        _ = try await cast.carol.connection.call("join_call", on: self.voice, codec: "voice")
        try await cast.owner.connection.community("set_user_group", ["user_id": .string(cast.carol.identity.userID.value), "group": "member"])
        #expect(try await cast.carol.events.nextUpdate("call_ended").payload["reason"]?.stringValue == "no_access")
        #expect(!Self.nodes(try await self.loginTree(cast.server, cast.carol)).contains("General/VC-1 [moderator,staff]"))
    }
}
