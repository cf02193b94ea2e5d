import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Crypto
import Foundation
import Testing

/// Voice calls over the wire in mesh mode (no SFU): joining and leaving, states seen live by a member outside the
/// call, the call socket's `hello` and signalling relay, and who may not get in.
@Suite("Voice calls (mesh)")
struct VoiceCallTests {
    let voice = ChannelAddress(path: "General", name: "VC-1")

    func join(_ client: Client, _ channel: ChannelAddress? = nil) async throws -> FunctionResult {
        try await client.connection.call(VoiceChannelCodec.joinCall, on: channel ?? self.voice, codec: "voice")
    }

    func call(_ client: Client, _ function: String, _ payload: JSONValue = [:]) async throws -> FunctionResult {
        try await client.connection.call(function, on: self.voice, codec: "voice", payload: payload)
    }

    /// The `active_users` of VC-1 as a new login sees them.
    func activeUsers(_ server: TestServer, _ identity: Identity) async throws -> [String: JSONValue] {
        let connection = try await server.connect()
        defer { Task { await connection.close() } }
        let welcome = try await connection.login(identity)
        let general = welcome.interactables.first { $0.name == "General" && $0.codec == "category" }
        let node = general?.children.first { $0.name == "VC-1" }
        return node?.data["active_users"]?.objectValue ?? [:]
    }

    @Test("a member joins, connects the call socket, mutes and leaves; a member outside the call sees each step")
    func joinStatesLeave() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stopAndRemove() } }
        let alice = try await server.owner("alice")
        let carol = try await server.member("carol")

        let joined = try await self.join(alice)
        #expect(joined.result == "call_joined")
        #expect(joined.payload["mode"]?.stringValue == "mesh")
        #expect(joined.payload["socket"]?.stringValue == "/ws/calls/")
        #expect(joined.payload["max_members"]?.intValue == 6)
        #expect(joined.payload["secret"]?.stringValue?.count == 43)
        #expect(joined.payload["ice_servers"]?.arrayValue == [])
        #expect(joined.payload["user"]?["state"]?.stringValue == "inactive")

        var seen = try await carol.events.nextUpdate("user_changed")
        #expect(seen.address == self.voice && seen.codec == "voice")
        #expect(seen.payload["user_id"]?.stringValue == alice.identity.userID.value)
        #expect(seen.payload["state"]?.stringValue == "inactive")

        let (socket, ready) = try await CallSocketClient.open(server, channel: self.voice, joined: joined)
        #expect(ready["mode"]?.stringValue == "mesh")
        #expect(ready["peers"]?.arrayValue == [])
        seen = try await carol.events.nextUpdate("user_changed")
        #expect(seen.payload["state"]?.stringValue == "active")
        #expect(try await self.activeUsers(server, carol.identity)[alice.identity.userID.value]?["state"]?.stringValue == "active")

        let muted = try await self.call(alice, "set_call_state", ["state": "muted"])
        #expect(muted.payload["state"]?.stringValue == "muted")
        seen = try await carol.events.nextUpdate("user_changed")
        #expect(seen.payload["state"]?.stringValue == "muted")
        _ = try await self.call(alice, "set_call_state", ["state": "deafened"])
        #expect(try await carol.events.nextUpdate("user_changed").payload["state"]?.stringValue == "deafened")
        _ = try await self.call(alice, "go_live", ["live": true, "label": "slides"])
        seen = try await carol.events.nextUpdate("user_changed")
        #expect(seen.payload["streaming"]?.boolValue == true && seen.payload["live_label"]?.stringValue == "slides")
        _ = try await self.call(alice, "set_devices", ["video": true])
        #expect(try await carol.events.nextUpdate("user_changed").payload["video"]?.boolValue == true)
        _ = try await self.call(alice, "set_talking", ["talking": true])
        #expect(try await carol.events.nextUpdate("talking").payload["talking"]?.boolValue == true)

        let left = try await self.call(alice, "leave_call")
        #expect(left.result == "call_left")
        seen = try await carol.events.nextUpdate("user_left")
        #expect(seen.payload["user_id"]?.stringValue == alice.identity.userID.value)
        #expect(seen.payload["reason"]?.stringValue == "left")
        #expect(try await socket.next("ended")["reason"]?.stringValue == "left")
        #expect(try await socket.closeFrame().hasPrefix("1000"))
        #expect(try await self.activeUsers(server, carol.identity).isEmpty)
    }

    @Test("the call socket relays signalling between the members of one call only, and says who comes and goes")
    func meshSignalling() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stopAndRemove() } }
        let alice = try await server.owner("alice")
        let bob = try await server.member("bob")
        let eve = try await server.member("eve")

        let (aliceSocket, _) = try await CallSocketClient.open(server, channel: self.voice, joined: try await self.join(alice))
        let (bobSocket, bobReady) = try await CallSocketClient.open(server, channel: self.voice, joined: try await self.join(bob))
        #expect(bobReady["peers"]?.arrayValue == [.string(alice.identity.userID.value)])
        #expect(try await aliceSocket.next("peer_joined")["user_id"]?.stringValue == bob.identity.userID.value)

        try await bobSocket.send("signal", ["to": .string(alice.identity.userID.value), "payload": ["type": "offer", "sdp": "v=0"]])
        let signal = try await aliceSocket.next("signal")
        #expect(signal["from"]?.stringValue == bob.identity.userID.value)
        #expect(signal["payload"]?["sdp"]?.stringValue == "v=0")

        // Eve is not in the call: a signal to her is refused, and her own join to another call cannot reach them.
        try await bobSocket.send("signal", ["to": .string(eve.identity.userID.value), "payload": ["type": "offer"]])
        let refused = try await bobSocket.next("error")
        #expect(refused["code"]?.stringValue == "not_found")
        try await bobSocket.send("signal", ["to": .string(alice.identity.userID.value), "payload": "not an object"])
        #expect(try await bobSocket.next("error")["code"]?.stringValue == "invalid_argument")

        // Bob's main connection closes: he leaves the call, Alice's socket hears it, Eve sees it.
        await bob.connection.close()
        #expect(try await aliceSocket.next("peer_left")["user_id"]?.stringValue == bob.identity.userID.value)
        let left = try await eve.events.nextUpdate("user_left")
        #expect(left.payload["user_id"]?.stringValue == bob.identity.userID.value)
        #expect(left.payload["reason"]?.stringValue == "disconnected")
        #expect(try await bobSocket.next("ended")["reason"]?.stringValue == "disconnected")
    }

    @Test("a call socket without a current secret, or with one for another channel, is refused and closed")
    func badSecrets() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stopAndRemove() } }
        let alice = try await server.owner("alice")
        let joined = try await self.join(alice)
        let secret = try #require(joined.payload["secret"]?.stringValue)

        for (path, name, key) in [("General", "VC-1", String(repeating: "x", count: 43)), ("General", "General", secret), ("", "Rules", secret)] {
            let client = try await CallSocketClient.connect(to: server)
            try await client.send("hello", ["path": .string(path), "name": .string(name), "secret": .string(key)])
            let error = try await client.next()
            #expect(error.type == "error")
            #expect(error.data["code"]?.stringValue == "forbidden")
            #expect(try await client.closeFrame().hasPrefix("1008"))
        }
        // A first frame that is not hello.
        let client = try await CallSocketClient.connect(to: server)
        try await client.send("signal", ["to": "x"])
        #expect(try await client.next().data["code"]?.stringValue == "unexpected_message")

        // After leaving, the old secret no longer opens the call.
        _ = try await self.call(alice, "leave_call")
        let late = try await CallSocketClient.connect(to: server)
        try await late.send("hello", ["path": "General", "name": "VC-1", "secret": .string(secret)])
        #expect(try await late.next().data["code"]?.stringValue == "forbidden")
    }

    @Test("state changes outside a call, bad states and long live labels are refused, and nothing changes")
    func refusals() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stopAndRemove() } }
        let alice = try await server.owner("alice")
        await expectError(.unexpectedMessage) { _ = try await self.call(alice, "set_call_state", ["state": "muted"]) }
        _ = try await self.join(alice)
        await expectError(.invalidArgument) { _ = try await self.call(alice, "set_call_state", ["state": "inactive"]) }
        await expectError(.invalidArgument) { _ = try await self.call(alice, "set_call_state", ["state": 1]) }
        await expectError(.invalidArgument) { _ = try await self.call(alice, "set_devices", [:]) }
        await expectError(.tooLarge) {
            _ = try await self.call(alice, "go_live", ["live": true, "label": .string(String(repeating: "a", count: 65))])
        }
        await expectError(.invalidArgument) { _ = try await self.call(alice, "go_live", ["live": true, "label": "\u{202E}evil"]) }
        let state = try #require(try await self.activeUsers(server, alice.identity)[alice.identity.userID.value])
        #expect(state["state"]?.stringValue == "inactive")
        #expect(state["streaming"]?.boolValue == false)
        #expect(state["live_label"]?.stringValue == "")
        // Not in the call: leaving is harmless.
        _ = try await self.call(alice, "leave_call")
        #expect(try await self.call(alice, "leave_call").result == "call_left")
    }

    @Test("a call is full at its limit; joining another call moves the member")
    func limitsAndMoving() async throws {
        let server = try await TestServer.start { $0.voice.maxMeshMembers = 2 }
        defer { Task { await server.stopAndRemove() } }
        let alice = try await server.owner("alice")
        let bob = try await server.member("bob")
        let carol = try await server.member("carol")
        _ = try await self.join(alice)
        _ = try await self.join(bob)
        await expectError(.callFull) { _ = try await self.join(carol) }
        #expect(try await self.activeUsers(server, carol.identity).count == 2)

        // Alice creates a second voice channel and moves there: VC-1's viewers see her leave.
        let lounge = ChannelAddress(path: "", name: "Lounge")
        _ = try await alice.connection.call("create", on: lounge, payload: ["codec": "voice"])
        _ = try await self.join(alice, lounge)
        var left = try await carol.events.nextUpdate("user_left")
        while left.address != self.voice { left = try await carol.events.nextUpdate("user_left") }
        #expect(left.payload["reason"]?.stringValue == "moved")
        _ = try await self.join(carol)

        // Removing the channel ends its call: Alice's connection is told.
        _ = try await alice.connection.call("remove", on: lounge)
        let ended = try await alice.events.nextUpdate("call_ended")
        #expect(ended.payload["reason"]?.stringValue == "channel_removed")
    }

    @Test("server mute needs suppress_users; the call shows it; a banned member leaves the call")
    func moderation() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stopAndRemove() } }
        let alice = try await server.owner("alice")
        let bob = try await server.member("bob")
        let carol = try await server.member("carol")
        let (bobSocket, _) = try await CallSocketClient.open(server, channel: self.voice, joined: try await self.join(bob))

        await expectError(.forbidden) { _ = try await carol.connection.community("server_mute", ["user_id": .string(bob.identity.userID.value), "suppress": true]) }
        #expect(try await self.activeUsers(server, carol.identity)[bob.identity.userID.value]?["server_muted"]?.boolValue == false)

        _ = try await alice.connection.community("server_mute", ["user_id": .string(bob.identity.userID.value), "suppress": true])
        var seen = try await carol.events.nextUpdate("user_changed")
        while seen.payload["server_muted"]?.boolValue != true { seen = try await carol.events.nextUpdate("user_changed") }
        #expect(seen.payload["user_id"]?.stringValue == bob.identity.userID.value)

        try await alice.connection.remove(bob.identity.userID, ban: true)
        let left = try await carol.events.nextUpdate("user_left")
        #expect(left.payload["user_id"]?.stringValue == bob.identity.userID.value)
        #expect(left.payload["reason"]?.stringValue == "removed")
        #expect(try await bobSocket.next("ended")["reason"]?.stringValue == "removed")
        #expect(try await self.activeUsers(server, carol.identity).isEmpty)
    }

    @Test("TURN credentials are the member's own, HMAC-SHA1 of EXPIRY:USER_ID under the TURN secret")
    func turnCredentials() async throws {
        let server = try await TestServer.start { configuration in
            configuration.voice.stunURLs = ["stun:127.0.0.1:3478"]
            configuration.voice.turnURLs = ["turn:127.0.0.1:3478?transport=udp"]
            configuration.voice.turnSecret = "s3cret"
        }
        defer { Task { await server.stopAndRemove() } }
        let alice = try await server.owner("alice")
        let joined = try await self.join(alice)
        let servers = try #require(joined.payload["ice_servers"]?.arrayValue)
        #expect(servers.count == 2)
        #expect(servers[0]["urls"] == ["stun:127.0.0.1:3478"])
        let username = try #require(servers[1]["username"]?.stringValue)
        let parts = username.split(separator: ":")
        #expect(parts.count == 2 && parts[1] == Substring(alice.identity.userID.value))
        let expiry = try #require(Int64(parts[0]))
        #expect(expiry > Int64(Date().timeIntervalSince1970) + 3600)
        #expect(joined.payload["ice_expires_at"]?.intValue == expiry * 1000)
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(username.utf8), using: SymmetricKey(data: Data("s3cret".utf8)))
        #expect(servers[1]["credential"]?.stringValue == Data(mac).base64EncodedString())
        let refreshed = try await self.call(alice, "refresh_ice")
        #expect(refreshed.result == "ice_servers")
        #expect(refreshed.payload["ice_servers"]?.arrayValue?.count == 2)
    }

    @Test("with voice off, join_call is voice_unavailable and nobody is in a call")
    func voiceOff() async throws {
        let server = try await TestServer.start { $0.voice.mode = .off }
        defer { Task { await server.stopAndRemove() } }
        let alice = try await server.owner("alice")
        await expectError(.voiceUnavailable) { _ = try await self.join(alice) }
        #expect(try await self.activeUsers(server, alice.identity).isEmpty)
    }
}
