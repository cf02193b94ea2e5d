import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Foundation
import Testing

/// Look-alike names and hostile text over real connections: every refusal is the exact `invalid_argument` the client
/// gets, and nothing stored changes.
@Suite("Hostile text and look-alike names")
struct HostileTextTests {
    let general = ChannelAddress(path: "General", name: "General")
    let community = ChannelAddress(path: "", name: "")

    /// The error `function` gets. A ping first, so that a run of refusals never reaches the "too many errors" limit.
    func error(_ client: Client, _ function: String, on address: ChannelAddress, codec: String?, _ payload: JSONValue)
        async throws -> CommuneError
    {
        _ = try await client.connection.request(Envelope(type: .ping))
        do {
            _ = try await client.connection.call(function, on: address, codec: codec, payload: payload)
            Issue.record("\(function) with \(payload.jsonString) succeeded")
            return CommuneError(.internalError, "succeeded")
        } catch let error as CommuneError {
            return error
        }
    }

    func registerError(_ server: TestServer, invite: String, name: String) async throws -> CommuneError {
        let connection = try await server.connect()
        defer { Task { await connection.close() } }
        do {
            try await connection.register(.generate(), invite: invite, username: name)
            Issue.record("registering \(name.unicodeScalars.map { String($0.value, radix: 16) }) succeeded")
            return CommuneError(.internalError, "succeeded")
        } catch let error as CommuneError {
            return error
        }
    }

    /// Everything stored that a refused request could have touched.
    func snapshot(_ server: TestServer) async throws -> String {
        let store = server.server.store
        var lines: [String] = []
        for member in try await store.members().sorted(by: { $0.id.value < $1.id.value }) {
            lines.append("member \(member.id) \(member.username) \(member.group) \(member.status.rawValue) \(member.statusText)")
        }
        for node in try await store.interactables().sorted(by: { $0.id < $1.id }) {
            lines.append("node \(node.id) \(node.parentID ?? 0) \(node.name) \(node.position) \(node.properties.sorted { $0.key < $1.key })")
            for message in try await store.messages(channelID: node.id, before: nil, skip: 0, limit: 1_000) {
                lines.append("message \(node.id) \(message.messageID) \(message.text)")
            }
        }
        for group in try await store.groups().sorted(by: { $0.name < $1.name }) {
            lines.append("group \(group.name) \(group.power) \(group.permissions.sorted())")
        }
        for (key, value) in try await store.settings().sorted(by: { $0.key < $1.key }) where key != SettingKey.privateKey {
            lines.append("setting \(key) \(value)")
        }
        for ban in try await store.bans() { lines.append("ban \(ban.userID) \(ban.reason)") }
        for invite in try await store.invites().sorted(by: { $0.code < $1.code }) { lines.append("invite \(invite.code) \(invite.usesLeft)") }
        return lines.joined(separator: "\n")
    }

    @Test("registration and renames refuse look-alikes of another member's name and hostile characters")
    func memberNames() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner("Owner")
        let alice = try await server.member("Alice")
        let bob = try await server.member("bob")
        let invite = try await server.invite(uses: 20)
        let before = try await self.snapshot(server)

        let lookalike = { (name: String, other: String) in
            CommuneError.invalidArgument(
                "The username '\(name)' looks like the name of another member ('\(other)'); choose one that is easy to tell apart."
            )
        }
        for name in ["Аlice", "Αlice", "alice", "ALICE", "AIice", "Ａｌｉｃｅ", " Alice "] {
            #expect(try await self.registerError(server, invite: invite, name: name) == lookalike(name.trimmingCharacters(in: .whitespaces), "Alice"))
        }
        #expect(try await self.registerError(server, invite: invite, name: "b0b") == lookalike("b0b", "bob"))
        #expect(
            try await self.registerError(server, invite: invite, name: "\u{202E}ecilA")
                == .invalidArgument("The username must not contain invisible or direction-changing characters (U+202E).")
        )
        #expect(
            try await self.registerError(server, invite: invite, name: "Al\u{200B}ice")
                == .invalidArgument("The username must not contain invisible or direction-changing characters (U+200B).")
        )
        #expect(
            try await self.registerError(server, invite: invite, name: "Al\u{2066}ice")
                == .invalidArgument("The username must not contain invisible or direction-changing characters (U+2066).")
        )
        #expect(
            try await self.registerError(server, invite: invite, name: "Al\u{1B}[0mice")
                == .invalidArgument("The username must not contain control characters (U+001B).")
        )

        // Renaming: another member's look-alike is refused, yourself in another case is not.
        #expect(try await self.error(bob, "set_username", on: self.community, codec: "community", ["username": "Аlice"]) == lookalike("Аlice", "Alice"))
        #expect(
            try await self.error(owner, "set_username", on: self.community, codec: "community", ["username": "B0B", "user_id": .string(alice.identity.userID.value)])
                == lookalike("B0B", "bob")
        )
        #expect(
            try await self.error(bob, "set_username", on: self.community, codec: "community", ["username": "bo\u{200D}b"])
                == .invalidArgument("The username must not contain invisible or direction-changing characters (U+200D).")
        )
        #expect(try await self.snapshot(server) == before)

        let renamed = try await alice.connection.call("set_username", on: self.community, codec: "community", payload: ["username": "alice"])
        #expect(renamed.payload["username"] == "alice")
        // NFD in, NFC stored; an accepted name with an emoji sequence.
        let zoe = try await server.member("Zoe\u{308} 👩‍💻")
        #expect(try await server.server.store.members().first { $0.id == zoe.identity.userID }.map { Array($0.username.unicodeScalars) } == Array("Zo\u{EB} 👩‍💻".unicodeScalars))
        await server.stopAndRemove()
    }

    @Test("two look-alike names registered at the same moment: exactly one becomes a member, the other is refused")
    func racingRegistrations() async throws {
        let server = try await TestServer.start()
        _ = try await server.owner("Owner")
        let invite = try await server.invite(uses: 40)
        for round in 0..<10 {
            let latin = "alice\(round)", cyrillic = "\u{430}lice\(round)"  // Cyrillic а
            let first = try await server.connect(), second = try await server.connect()
            /// The error registering `name` on `connection` gets, `nil` when it succeeds.
            @Sendable func register(_ connection: CommuneConnection, _ name: String) async -> (any Error)? {
                do {
                    _ = try await connection.register(.generate(), invite: invite, username: name)
                    return nil
                } catch {
                    return error
                }
            }
            async let latinError = register(first, latin)
            async let cyrillicError = register(second, cyrillic)
            let results = await [(latin, cyrillic, latinError), (cyrillic, latin, cyrillicError)]
            await first.close()
            await second.close()

            #expect(results.filter { $0.2 == nil }.count == 1, "round \(round): both or neither of the two look-alikes registered")
            for (name, other, error) in results where error != nil {
                #expect(
                    error as? CommuneError
                        == .invalidArgument("The username '\(name)' looks like the name of another member ('\(other)'); choose one that is easy to tell apart.")
                )
            }
            let stored = try await server.server.store.members().map(\.username).filter { $0 == latin || $0 == cyrillic }
            #expect(stored.count == 1)
        }
        await server.stopAndRemove()
    }

    @Test("blank-looking characters and stacked combining marks are refused in names and messages; nothing is stored")
    func blanksAndStackedMarks() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner()
        let invite = try await server.invite(uses: 20)
        _ = try await owner.connection.sendMessage("first", to: self.general)
        let before = try await self.snapshot(server)
        let zalgo = "Z\u{336}\u{301}\u{300}\u{302}\u{303}algo"

        for (name, refusal) in [
            ("\u{2800}", "blank-looking characters (U+2800)"),
            ("\u{3164}\u{3164}", "blank-looking characters (U+3164)"),
            ("Al\u{FFA0}ice", "blank-looking characters (U+FFA0)"),
            ("\u{115F}\u{1160}", "blank-looking characters (U+115F)"),
            (zalgo, "more than 4 combining marks on one character (U+0303)"),
        ] {
            #expect(try await self.registerError(server, invite: invite, name: name) == .invalidArgument("The username must not contain \(refusal)."))
        }
        #expect(
            try await self.error(owner, "create", on: ChannelAddress(path: "General", name: "\u{2800}"), codec: "text", ["codec": "text"])
                == .invalidArgument("data.name must not contain blank-looking characters (U+2800).")
        )
        #expect(
            try await self.error(owner, "set_status", on: self.community, codec: "community", ["status": "away", "text": .string(zalgo)])
                == .invalidArgument("data.payload.text must not contain more than 4 combining marks on one character (U+0303).")
        )

        for (text, refusal) in [
            ("\u{2800}\u{2800}\n\u{2800}", "be made only of white space and blank-looking characters (U+2800)"),
            ("\u{FFA0} \u{3164}", "be made only of white space and blank-looking characters (U+FFA0)"),
            ("hi \(zalgo)", "contain more than 4 combining marks on one character (U+0303)"),
        ] {
            #expect(
                try await self.error(owner, "send_message", on: self.general, codec: "text", ["message": .string(text)])
                    == .invalidArgument("data.payload.message must not \(refusal).")
            )
        }
        #expect(
            try await self.error(owner, "edit_message", on: self.general, codec: "text", ["message_id": 1, "message": "e\u{301}\u{302}\u{303}\u{304}\u{305}"])
                == .invalidArgument("data.payload.message must not contain more than 4 combining marks on one character (U+0305).")
        )
        #expect(try await self.snapshot(server) == before)

        // Braille art with blanks among dots, and four marks on a character, stay allowed.
        _ = try await owner.connection.sendMessage("\u{2800}\u{2801}\u{2800}\u{2802} Z\u{336}\u{301}\u{300}\u{302}", to: self.general)
        await server.stopAndRemove()
    }

    @Test("the community's description refuses control and direction-changing characters, keeps line breaks")
    func description() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner()
        let before = try await self.snapshot(server)
        for (text, refusal) in [
            ("Welcome \u{202E}!sdrawkcab", "invisible or direction-changing characters (U+202E)"),
            ("Welcome\u{2066} home", "invisible or direction-changing characters (U+2066)"),
            ("ring \u{7}", "control characters (U+0007)"),
            ("\u{1B}[2Jgone", "control characters (U+001B)"),
            ("\u{2800}", "blank-looking characters (U+2800)"),
        ] {
            #expect(
                try await self.error(owner, "set_info", on: self.community, codec: "community", ["description": .string(text)])
                    == .invalidArgument("data.payload.description must not contain \(refusal).")
            )
        }
        #expect(try await self.snapshot(server) == before)

        let info = try await owner.connection.call("set_info", on: self.community, codec: "community", payload: ["description": "  Welcome!\n\tBe kind.\r\nשלום  "])
        #expect(info.payload["description"] == "Welcome!\n\tBe kind.\r\nשלום")
        #expect(try await server.server.store.settings()[SettingKey.description] == "Welcome!\n\tBe kind.\r\nשלום")
        await server.stopAndRemove()
    }

    @Test("channels, categories, groups and the community name refuse hostile characters and siblings' look-alikes")
    func structureNames() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner()
        _ = try await owner.connection.call("create", on: ChannelAddress(path: "General", name: "RuIes"), codec: "text", payload: ["codec": "text"])
        let before = try await self.snapshot(server)

        let create = { (path: String, name: String) in
            try await self.error(owner, "create", on: ChannelAddress(path: path, name: name), codec: "text", ["codec": "text"])
        }
        #expect(try await create("General", "Gener\u{200B}al") == .invalidArgument("data.name must not contain invisible or direction-changing characters (U+200B)."))
        #expect(try await create("General", "\u{202E}lareneG") == .invalidArgument("data.name must not contain invisible or direction-changing characters (U+202E)."))
        #expect(try await create("General", "Gen\u{7}eral") == .invalidArgument("data.name must not contain control characters (U+0007)."))
        let cyrillic = "Gеnеrаl"
        #expect(
            try await create("General", cyrillic)
                == .invalidArgument("'General/\(cyrillic)' looks like 'General/General', which exists already; choose a name that is easy to tell apart.")
        )
        #expect(
            try await create("General", "general")
                == .invalidArgument("'General/general' looks like 'General/General', which exists already; choose a name that is easy to tell apart.")
        )
        #expect(
            try await create("", "RULES")
                == .invalidArgument("'RULES' looks like 'Rules', which exists already; choose a name that is easy to tell apart.")
        )
        #expect(
            try await self.error(owner, "rename", on: ChannelAddress(path: "General", name: "VC-1"), codec: "voice", ["new_name": "Genera1"])
                == .invalidArgument("'General/Genera1' looks like 'General/General', which exists already; choose a name that is easy to tell apart.")
        )
        #expect(
            try await self.error(owner, "move", on: ChannelAddress(path: "General", name: "RuIes"), codec: "text", ["parent_path": ""])
                == .invalidArgument("'RuIes' looks like 'Rules', which exists already; choose a name that is easy to tell apart.")
        )
        #expect(
            try await self.error(owner, "create_group", on: self.community, codec: "community", ["group": "mоderator"])
                == .invalidArgument("The group 'mоderator' looks like the existing group 'moderator'; choose a name that is easy to tell apart.")
        )
        #expect(
            try await self.error(owner, "set_user_group", on: self.community, codec: "community", ["user_id": .string(owner.identity.userID.value), "group": "0wner"])
                == .invalidArgument("The group '0wner' looks like the existing group 'owner'; choose a name that is easy to tell apart.")
        )
        #expect(
            try await self.error(owner, "update_group", on: self.community, codec: "community", ["group": "mod\u{2060}erator"])
                == .invalidArgument("data.payload.group must not contain invisible or direction-changing characters (U+2060).")
        )
        #expect(
            try await self.error(owner, "set_info", on: self.community, codec: "community", ["name": "Commune\u{202B}"])
                == .invalidArgument("data.payload.name must not contain invisible or direction-changing characters (U+202B).")
        )
        #expect(try await self.snapshot(server) == before)

        // Renaming a node to its own name in another case is not a clash with itself.
        _ = try await owner.connection.call("rename", on: ChannelAddress(path: "", name: "Rules"), codec: "text", payload: ["new_name": "rules"])
        await server.stopAndRemove()
    }

    @Test("status text, topics and ban reasons refuse hostile characters")
    func shortLines() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner()
        let bob = try await server.member("bob")
        let before = try await self.snapshot(server)
        #expect(
            try await self.error(owner, "set_status", on: self.community, codec: "community", ["status": "away", "text": "back \u{202E}soon"])
                == .invalidArgument("data.payload.text must not contain invisible or direction-changing characters (U+202E).")
        )
        #expect(
            try await self.error(owner, "set_topic", on: self.general, codec: "text", ["topic": "rules:\u{0}"])
                == .invalidArgument("data.payload.topic must not contain control characters (U+0000).")
        )
        #expect(
            try await self.error(owner, "ban", on: self.community, codec: "community", ["user_id": .string(bob.identity.userID.value), "reason": "spam\u{2067}"])
                == .invalidArgument("data.payload.reason must not contain invisible or direction-changing characters (U+2067).")
        )
        #expect(try await self.snapshot(server) == before)
        await server.stopAndRemove()
    }

    @Test("messages refuse NUL, BEL, ESC and C1 controls, invisible-only text and lone surrogates; nothing is stored")
    func messages() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        _ = try await alice.connection.sendMessage("first", to: self.general)
        let before = try await self.snapshot(server)

        let send = { (text: String) in try await self.error(alice, "send_message", on: self.general, codec: "text", ["message": .string(text)]) }
        #expect(try await send("nul\u{0}") == .invalidArgument("data.payload.message must not contain control characters (U+0000)."))
        #expect(try await send("ding\u{7}") == .invalidArgument("data.payload.message must not contain control characters (U+0007)."))
        #expect(try await send("\u{1B}[2Jcleared") == .invalidArgument("data.payload.message must not contain control characters (U+001B)."))
        #expect(try await send("csi\u{9B}") == .invalidArgument("data.payload.message must not contain control characters (U+009B)."))
        #expect(
            try await send("\u{200B}\u{200B}")
                == .invalidArgument("data.payload.message must not be made only of white space and invisible or direction-changing characters (U+200B).")
        )
        #expect(
            try await send(" \u{3164}\u{200B} ")
                == .invalidArgument("data.payload.message must not be made only of white space and blank-looking characters (U+3164).")
        )
        #expect(
            try await self.error(alice, "edit_message", on: self.general, codec: "text", ["message_id": 1, "message": "\u{FEFF}"])
                == .invalidArgument("data.payload.message must not be made only of white space and invisible or direction-changing characters (U+FEFF).")
        )

        // A lone surrogate cannot be escaped into a string: bad_json, and the connection stays usable.
        let frame = #"{"type":"function","id":"s1","data":{"codec":"text","path":"General","name":"General","function":"send_message","payload":{"message":"a\ud800b"}}}"#
        try await alice.connection.sendRaw(frame)
        let envelope = try #require(try await alice.events.next())
        #expect(envelope.type == .error)
        #expect(CommuneError(envelope: envelope) == .badJSON("The frame is not valid JSON: unpaired surrogate at byte 141"))
        let lowFirst = frame.replacingOccurrences(of: #"\ud800b"#, with: #"\udc00\ud800"#)
        try await alice.connection.sendRaw(lowFirst)
        #expect(try #require(try await alice.events.next()).type == .error)
        #expect(try await self.snapshot(server) == before)

        // Tabs, line breaks and direction marks stay allowed.
        _ = try await alice.connection.sendMessage("a\tb\r\nשלום \u{200F}ok", to: self.general)
        await server.stopAndRemove()
    }
}
