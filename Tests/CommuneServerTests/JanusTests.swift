import CommuneClient
import CommuneCore
import CommuneProtocol
import Foundation
import Logging
import Testing

@testable import CommuneServer

#if canImport(Glibc)
import Glibc
#endif

/// Voice through the SFU: a server in `sfu` mode starts and supervises its own Janus (Debian's `janus`), which
/// only Commune can drive, and which lets into a call's room only the holders of current admissions. No browser
/// here: a synthetic SDP offer stands in for a publisher (ICE never completes).
@Suite("Voice calls (SFU: Janus)", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/janus"), "needs janus: apt-get install janus"))
struct JanusTests {
    let voice = ChannelAddress(path: "General", name: "VC-1")
    let text = ChannelAddress(path: "General", name: "General")

    /// Runs `body` with a server in `sfu` mode whose Janus answers, and stops both afterwards (whatever happens:
    /// a Janus left behind would outlive the test process).
    func withServer(_ body: (TestServer, JanusCalls) async throws -> Void) async throws {
        let server = try await TestServer.start { configuration in
            configuration.voice.mode = .sfu
            configuration.voice.mediaIP = MediaAddress.primary() ?? "127.0.0.1"
        }
        do {
            let calls = try #require(server.server.callBackend as? JanusCalls, "sfu mode should run JanusCalls")
            try await Self.waitUntil("Janus answers") { calls.isAvailable }
            try await body(server, calls)
        } catch {
            await server.stopAndRemove()
            throw error
        }
        await server.stopAndRemove()
    }

    static func waitUntil(_ what: String, within limit: Duration = .seconds(10), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + limit
        while !condition() {
            guard ContinuousClock.now < deadline else { throw TestFailure("not within \(limit): \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func join(_ client: Client) async throws -> FunctionResult {
        try await client.connection.call(VoiceChannelCodec.joinCall, on: self.voice, codec: "voice")
    }

    var quiet: Logger {
        var logger = Logger(label: "commune.test.janus")
        logger.logLevel = .critical
        return logger
    }

    /// The Janus API of `server`, as its config folder says, and the secrets Commune stored.
    func janus(_ server: TestServer) throws -> (url: String, apiSecret: String, adminKey: String) {
        let folder = server.directory.appendingPathComponent("voice/janus")
        let transport = try String(contentsOf: folder.appendingPathComponent("janus.transport.websockets.jcfg"), encoding: .utf8)
        let portLine = try #require(transport.split(separator: "\n").first { $0.contains("ws_port") })
        let port = try #require(Int(portLine.split(separator: "=")[1].trimmingCharacters(in: .whitespaces)))
        let secrets = try JSONValue.parse(String(contentsOf: server.directory.appendingPathComponent("voice/secrets.json"), encoding: .utf8))
        return (
            "ws://127.0.0.1:\(port)/", try #require(secrets["janus_api_secret"]?.stringValue), try #require(secrets["janus_admin_key"]?.stringValue)
        )
    }

    /// Joins the room of `channel` as a publisher with `token` on a Janus session of the test's own.
    func joinRoom(_ janus: JanusClient, channel: Int64, token: String) async throws {
        let handle = try await janus.attach()
        defer { Task { await janus.detach(handle) } }
        let room = VideoRoom.Room(channel: channel, adminKey: "")
        _ = try await janus.message(handle, VideoRoom.joinPublisher(room, feed: "test-\(UUIDString.random().value)", display: "test", token: token))
    }

    func expectJanusError(_ code: Int64, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected Janus to refuse with \(code)")
        } catch let error as JanusError {
            #expect(error.code == code, "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("the server starts its own Janus: config under its data folder, secrets 0600, API on 127.0.0.1 only, refused without the API secret")
    func ownJanus() async throws {
        try await self.withServer { server, calls in
            let voiceFolder = server.directory.appendingPathComponent("voice")
            let mode = { (path: String) in ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int) ?? -1 }
            #expect(mode(voiceFolder.appendingPathComponent("secrets.json").path) == 0o600)
            #expect(mode(voiceFolder.path) == 0o700)
            let config = try String(contentsOf: voiceFolder.appendingPathComponent("janus/janus.jcfg"), encoding: .utf8)
            let (url, apiSecret, adminKey) = try self.janus(server)
            #expect(config.contains("api_secret = \"\(apiSecret)\""))
            #expect(!config.contains("stun_server"))
            #expect(try String(contentsOf: voiceFolder.appendingPathComponent("janus/janus.transport.websockets.jcfg"), encoding: .utf8).contains("ws_ip = \"127.0.0.1\""))
            let pid = try #require(calls.janusPID)
            let command = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")).split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            #expect(command.contains(voiceFolder.appendingPathComponent("janus").path))

            let alice = try await server.owner("alice")
            let joined = try await self.join(alice)
            #expect(joined.payload["mode"]?.stringValue == "sfu")
            #expect(joined.payload["max_members"]?.intValue == 25)

            // Without the API secret Janus answers nothing but 403.
            let bare = try await JanusConnection.connect(url: url, logger: self.quiet)
            defer { bare.close() }
            await self.expectJanusError(403) { _ = try await bare.request(["janus": "create"]) }
            await self.expectJanusError(403) { _ = try await bare.request(["janus": "create", "apisecret": "guess"]) }
            // With it, a room still needs the VideoRoom admin key.
            let janus = try await JanusClient.open(url: url, apiSecret: apiSecret, logger: self.quiet)
            defer { Task { await janus.close() } }
            let handle = try await janus.attach()
            await self.expectJanusError(429) { _ = try await janus.message(handle, ["request": "create", "room": "intruder"]) }
            await self.expectJanusError(433) {
                _ = try await janus.message(handle, ["request": "create", "room": "intruder", "admin_key": "guess"])
            }
            #expect(!adminKey.isEmpty)

            // The API listens on loopback only: the media address has nothing on that port.
            if let address = MediaAddress.primary() {
                let port = try #require(URL(string: url)?.port)
                await #expect(throws: (any Error).self) {
                    _ = try await JanusConnection.connect(url: "ws://\(address):\(port)/", timeout: .seconds(2), logger: self.quiet)
                }
            }
        }
    }

    @Test("only a current admission's token joins the call's room: made-up, left and banned members' tokens are refused; the room goes with the call's last member")
    func roomTokens() async throws {
        try await self.withServer { server, calls in
            let (url, apiSecret, _) = try self.janus(server)
            let janus = try await JanusClient.open(url: url, apiSecret: apiSecret, logger: self.quiet)
            defer { Task { await janus.close() } }
            let alice = try await server.owner("alice")
            let bob = try await server.member("bob")

            let aliceJoined = try await self.join(alice)
            let aliceSecret = try #require(aliceJoined.payload["secret"]?.stringValue)
            let aliceToken = try #require(calls.token(secret: aliceSecret))
            #expect(!aliceJoined.payload.jsonString.contains(aliceToken))
            let channel = try #require(server.server.community.calls.participant(secret: aliceSecret)?.ticket.channel)

            await self.expectJanusError(433) { try await self.joinRoom(janus, channel: channel, token: "made-up") }
            try await self.joinRoom(janus, channel: channel, token: aliceToken)

            // Alice leaves while Bob stays: her token no longer gets in.
            let bobJoined = try await self.join(bob)
            _ = try await alice.connection.call(VoiceChannelCodec.leaveCall, on: self.voice, codec: "voice")
            #expect(calls.token(secret: aliceSecret) == nil)
            await self.expectJanusError(433) { try await self.joinRoom(janus, channel: channel, token: aliceToken) }

            // Bob is banned mid-call: his token is revoked, and he cannot join again. He was the call's last member:
            // the room itself is gone (426 no such room), and a new call gets a new room.
            let bobSecret = try #require(bobJoined.payload["secret"]?.stringValue)
            let bobToken = try #require(calls.token(secret: bobSecret))
            try await self.joinRoom(janus, channel: channel, token: bobToken)
            try await alice.connection.remove(bob.identity.userID, ban: true)
            await self.expectJanusError(426) { try await self.joinRoom(janus, channel: channel, token: bobToken) }
            let handle = try await janus.attach()
            let room = VideoRoom.Room(channel: channel, adminKey: "")
            #expect(try await janus.message(handle, VideoRoom.exists(room)).data["exists"]?.boolValue == false)
            let again = try await self.join(alice)
            let againSecret = try #require(again.payload["secret"]?.stringValue)
            let againToken = try #require(calls.token(secret: againSecret))
            #expect(try await janus.message(handle, VideoRoom.exists(room)).data["exists"]?.boolValue == true)
            try await self.joinRoom(janus, channel: channel, token: againToken)
        }
    }

    /// A complete SDP offer of one Opus track (or, with `video`, one VP8 track: a camera), as a browser's would be
    /// after ICE gathering (its candidate leads nowhere: no media flows).
    static func offer(address: String, video: Bool = false) -> String {
        let media =
            video
            ? ["m=video 9 UDP/TLS/RTP/SAVPF 96", "a=rtpmap:96 VP8/90000", "a=rtcp-fb:96 nack pli"]
            : ["m=audio 9 UDP/TLS/RTP/SAVPF 111", "a=rtpmap:111 opus/48000/2", "a=fmtp:111 minptime=10;useinbandfec=1"]
        return ([
            "v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0", "a=msid-semantic: WMS s",
            media[0], "c=IN IP4 0.0.0.0", "a=rtcp:9 IN IP4 0.0.0.0", "a=ice-ufrag:abcd", "a=ice-pwd:abcdefghijklmnopqrstuvwx",
            "a=fingerprint:sha-256 " + Array(repeating: "AB", count: 32).joined(separator: ":"), "a=setup:actpass", "a=mid:0",
            "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level", "a=sendonly", "a=msid:s t", "a=rtcp-mux",
        ] + media.dropFirst() + ["a=ssrc:1234 cname:c", "a=candidate:1 1 udp 2122260223 \(address) 9 typ host", "a=end-of-candidates", ""])
            .joined(separator: "\r\n")
    }

    @Test(
        "publishing an offer on the call socket answers with the SFU's SDP; server mute is applied by Janus (moderate)",
        .enabled(if: MediaAddress.primary() != nil, "Janus needs a non-loopback address for its candidates")
    )
    func publishAndServerMute() async throws {
        try await self.withServer { server, calls in
            let alice = try await server.owner("alice")
            let bob = try await server.member("bob")
            let joined = try await self.join(bob)
            let secret = try #require(joined.payload["secret"]?.stringValue)
            let (socket, ready) = try await CallSocketClient.open(server, channel: self.voice, joined: joined)
            #expect(ready["mode"]?.stringValue == "sfu")

            // Bad frames are refused and change nothing.
            try await socket.send("publish", ["kind": "video", "jsep": ["type": "offer", "sdp": "v=0"]])
            #expect(try await socket.next("error")["code"]?.stringValue == "invalid_argument")
            try await socket.send("publish", ["kind": "voice", "jsep": ["type": "answer", "sdp": "v=0"]])
            #expect(try await socket.next("error")["code"]?.stringValue == "invalid_argument")
            try await socket.send("answer", ["jsep": ["type": "answer", "sdp": "v=0"]])
            #expect(try await socket.next("error")["message"]?.stringValue == "No offer is waiting for an answer.")
            try await socket.send("watch", ["user_id": .string(alice.identity.userID.value)])
            #expect(try await socket.next("error")["code"]?.stringValue == "not_found")
            #expect(calls.feed(secret: secret, kind: .voice) == nil)

            let mediaIP = try #require(MediaAddress.primary())
            try await socket.send("publish", ["kind": "voice", "jsep": ["type": "offer", "sdp": .string(Self.offer(address: mediaIP))]])
            let answer = try await socket.next("answer")
            #expect(answer["kind"]?.stringValue == "voice")
            #expect(answer["jsep"]?["type"]?.stringValue == "answer")
            let sdp = try #require(answer["jsep"]?["sdp"]?.stringValue)
            #expect(sdp.contains("a=recvonly"))
            #expect(sdp.contains("typ host"))
            #expect(sdp.contains(" \(mediaIP) "))
            let feed = try #require(calls.feed(secret: secret, kind: .voice))
            #expect(feed.audioMid == "0")
            #expect(!feed.audioMuted)

            _ = try await alice.connection.community("server_mute", ["user_id": .string(bob.identity.userID.value), "suppress": true])
            try await Self.waitUntil("Janus confirms the mute") { calls.feed(secret: secret, kind: .voice)?.audioMuted == true }
            _ = try await alice.connection.community("server_mute", ["user_id": .string(bob.identity.userID.value), "suppress": false])
            try await Self.waitUntil("Janus confirms the unmute") { calls.feed(secret: secret, kind: .voice)?.audioMuted == false }

            // Leaving kicks the publisher.
            _ = try await bob.connection.call(VoiceChannelCodec.leaveCall, on: self.voice, codec: "voice")
            #expect(try await socket.next("ended")["reason"]?.stringValue == "left")
            #expect(calls.feed(secret: secret, kind: .voice) == nil)
        }
    }

    @Test(
        "a camera is a publisher of its own: published beside the voice, capped below the room's video bitrate, unpublished alone",
        .enabled(if: MediaAddress.primary() != nil, "Janus needs a non-loopback address for its candidates")
    )
    func publishCamera() async throws {
        try await self.withServer { server, calls in
            let bob = try await server.member("bob")
            let joined = try await self.join(bob)
            let secret = try #require(joined.payload["secret"]?.stringValue)
            let (socket, _) = try await CallSocketClient.open(server, channel: self.voice, joined: joined)
            let mediaIP = try #require(MediaAddress.primary())
            try await socket.send("publish", ["kind": "voice", "jsep": ["type": "offer", "sdp": .string(Self.offer(address: mediaIP))]])
            #expect(try await socket.next("answer")["kind"]?.stringValue == "voice")
            try await socket.send("publish", ["kind": "camera", "jsep": ["type": "offer", "sdp": .string(Self.offer(address: mediaIP, video: true))]])
            let answer = try await socket.next("answer")
            #expect(answer["kind"]?.stringValue == "camera")
            let sdp = try #require(answer["jsep"]?["sdp"]?.stringValue)
            #expect(sdp.contains("m=video") && sdp.contains("VP8/90000") && sdp.contains("a=recvonly"))
            let camera = try #require(calls.feed(secret: secret, kind: .camera))
            let voice = try #require(calls.feed(secret: secret, kind: .voice))
            #expect(camera.id != voice.id && camera.handle != voice.handle)
            #expect(camera.audioMid == nil)
            #expect(VideoRoom.cameraBitrate < VideoRoom.videoBitrateCap)

            // The voice cannot be unpublished (leave the call instead); nothing changes.
            try await socket.send("unpublish", ["kind": "voice"])
            #expect(try await socket.next("error")["code"]?.stringValue == "invalid_argument")
            #expect(calls.feed(secret: secret, kind: .voice) != nil && calls.feed(secret: secret, kind: .camera) != nil)
            // The camera goes alone.
            try await socket.send("unpublish", ["kind": "camera"])
            try await Self.waitUntil("the camera's feed is gone") { calls.feed(secret: secret, kind: .camera) == nil }
            #expect(calls.feed(secret: secret, kind: .voice)?.id == voice.id)
            // On again: a new publisher.
            try await socket.send("publish", ["kind": "camera", "jsep": ["type": "offer", "sdp": .string(Self.offer(address: mediaIP, video: true))]])
            #expect(try await socket.next("answer")["kind"]?.stringValue == "camera")
            #expect(try #require(calls.feed(secret: secret, kind: .camera)).id != camera.id)
        }
    }

    @Test("Janus killed: the server restarts it within seconds, calls end with media_restarted, members join again, text chat goes on")
    func restart() async throws {
        try await self.withServer { server, calls in
            let alice = try await server.owner("alice")
            let bob = try await server.member("bob")
            let joined = try await self.join(alice)
            let (socket, _) = try await CallSocketClient.open(server, channel: self.voice, joined: joined)

            let pid = try #require(calls.janusPID)
            #expect(kill(pid, SIGKILL) == 0)
            _ = try await alice.connection.sendMessage("still here", to: self.text)
            #expect(try await bob.events.nextUpdate(TextFunction.messageLive).payload["message"]?.stringValue == "still here")

            let ended = try await alice.events.nextUpdate(VoiceChannelCodec.callEnded)
            #expect(ended.payload["reason"]?.stringValue == "media_restarted")
            #expect(try await socket.next("ended")["reason"]?.stringValue == "media_restarted")
            let channel = try #require(server.server.community.interactable(at: self.voice)?.id)
            #expect(server.server.community.calls.participants(in: channel).isEmpty)

            try await Self.waitUntil("Janus is back", within: .seconds(5)) { calls.isAvailable && calls.janusPID != pid }
            let again = try await self.join(alice)
            #expect(again.payload["mode"]?.stringValue == "sfu")
            let (_, ready) = try await CallSocketClient.open(server, channel: self.voice, joined: again)
            #expect(ready["mode"]?.stringValue == "sfu")
            _ = try await bob.connection.sendMessage("and after", to: self.text)
            #expect(try await alice.events.nextUpdate(TextFunction.messageLive).payload["message"]?.stringValue == "and after")
        }
    }

    @Test("members pressing Rejoin while Janus restarts do not keep it down: join_call is voice_unavailable until it is back, then works")
    func rejoinDuringRestart() async throws {
        try await self.withServer { server, calls in
            let alice = try await server.owner("alice")
            let bob = try await server.member("bob")
            for _ in 0..<3 {
                let (socket, _) = try await CallSocketClient.open(server, channel: self.voice, joined: try await self.join(alice))
                let (_, _) = try await CallSocketClient.open(server, channel: self.voice, joined: try await self.join(bob))
                let pid = try #require(calls.janusPID)
                #expect(kill(pid, SIGKILL) == 0)
                _ = try await socket.next("ended")
                // Both press Rejoin at once and keep pressing until it works (at most 10 s).
                var joined = 0
                let deadline = ContinuousClock.now + .seconds(10)
                while joined < 2, ContinuousClock.now < deadline {
                    joined = 0
                    for client in [alice, bob] {
                        do {
                            _ = try await self.join(client)
                            joined += 1
                        } catch let error as CommuneError {
                            #expect(error.code == .voiceUnavailable, "\(error)")
                        }
                    }
                    if joined < 2 { try await Task.sleep(for: .milliseconds(20)) }
                }
                #expect(joined == 2, "Janus did not come back while members kept rejoining")
                #expect(calls.janusPID != pid)
            }
        }
    }
}
