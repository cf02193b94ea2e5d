import CommuneClient
import CommuneCore
import CommuneProtocol
import Foundation
import Logging
import Testing

@testable import CommuneServer

/// Commune's own coturn, for real: the configuration it writes, credentials minted the way members get them
/// (``ICEProvider``) allocating a relay, and wrong or expired ones refused. Needs Debian's `coturn` (the test
/// command installs it).
@Suite("TURN server (coturn)")
struct TURNServerTests {
    static let uclient = "/usr/bin/turnutils_uclient"

    /// Runs `turnutils_uclient` with `username`/`password`: two clients each allocate a relay and send each other
    /// packets through them. Its exit status, or 1 if any packet was lost.
    func allocate(port: Int, username: String, password: String) async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.uclient)
        process.arguments = ["-y", "-c", "-m", "2", "-n", "2", "-z", "5", "-p", String(port), "-u", username, "-w", password, "127.0.0.1"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(15)
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                process.terminate()
                throw TestFailure("turnutils_uclient did not finish within 15 s")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else { return process.terminationStatus }
        return text.contains("Total lost packets 0 ") ? 0 : 1
    }

    @Test("credentials from the ICE provider allocate; a wrong password and an expired one do not; a killed turnserver is restarted")
    func allocation() async throws {
        let binary = try #require(TURNServer.find(), "coturn is not installed (apt install coturn; scripts/test does it)")
        #expect(FileManager.default.isExecutableFile(atPath: Self.uclient))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("commune-turn-\(UUIDString.random().value)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = try #require(MediaAddress.freeLoopbackPort())
        let server = TURNServer(
            binary: binary, folder: folder, listenAddress: "127.0.0.1", publicAddress: "127.0.0.1", port: port, relayPorts: 50_100...50_140,
            secret: "test-secret"
        )
        var logger = Logger(label: "commune.test.turn")
        logger.logLevel = .critical
        let supervisor = Task { try await TURNSupervisor(server: server, logger: logger).run() }
        do {
            try await self.exercise(server, port: port, folder: folder)
        } catch {
            supervisor.cancel()
            _ = await supervisor.result
            throw error
        }
        // Cancelled (as on shutdown), the supervisor stops its turnserver before it returns.
        let pid = try #require(Int32(try String(contentsOf: folder.appendingPathComponent("turnserver.pid"), encoding: .utf8)))
        supervisor.cancel()
        _ = await supervisor.result
        #expect(kill(pid, 0) != 0, "the turnserver outlived its supervisor")
    }

    func exercise(_ server: TURNServer, port: Int, folder: URL) async throws {
        let member = UUIDString.random()
        let provider = ICEProvider(stunURLs: [server.stunURL], turnURLs: server.urls, turnSecret: "test-secret")
        let turn = try #require(provider.configuration(for: member).servers.last)
        let username = try #require(turn.username)
        let password = try #require(turn.credential)
        #expect(turn.urls == ["turn:127.0.0.1:\(port)?transport=udp", "turn:127.0.0.1:\(port)?transport=tcp"])

        // coturn takes a moment to listen: the good credential is tried until it works, for at most 10 s.
        var status: Int32 = -1
        for _ in 0..<20 {
            status = try await self.allocate(port: port, username: username, password: password)
            if status == 0 { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(status == 0, "a fresh credential allocates")
        let attributes = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("turnserver.conf").path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600, "the configuration holds the secret")
        #expect(try await self.allocate(port: port, username: username, password: "d3JvbmcK") != 0, "a wrong password is refused")
        let expired = ICEProvider(stunURLs: [], turnURLs: server.urls, turnSecret: "test-secret")
            .configuration(for: member, now: Date(timeIntervalSinceNow: -7 * 3600)).servers[0]
        #expect(try await self.allocate(port: port, username: expired.username!, password: expired.credential!) != 0, "an expired credential is refused")

        // The supervisor restarts a turnserver that dies.
        let pidFile = folder.appendingPathComponent("turnserver.pid")
        let pid = try #require(Int32(try String(contentsOf: pidFile, encoding: .utf8)))
        kill(pid, SIGKILL)
        var restarted = false
        for _ in 0..<40 {
            try await Task.sleep(for: .milliseconds(250))
            if let text = try? String(contentsOf: pidFile, encoding: .utf8), let now = Int32(text), now != pid,
                try await self.allocate(port: port, username: username, password: password) == 0
            {
                restarted = true
                break
            }
        }
        #expect(restarted, "a killed turnserver is started again and allocates")
    }
}

/// `commune serve`'s own coturn: started with the server on the media address, handed to members in `join_call`,
/// stopped with the server.
@Suite("Commune's own TURN server")
struct OwnTURNTests {
    @Test(
        "a server with coturn installed runs its own: members get its STUN and TURN URLs and credentials of the configured lifetime, refreshed by refresh_ice; it stops with the server"
    )
    func ownTURN() async throws {
        _ = try #require(TURNServer.find(), "coturn is not installed (apt install coturn; scripts/test does it)")
        let port = try #require(MediaAddress.freeLoopbackPort())
        let server = try await TestServer.start { configuration in
            configuration.voice.ownTURN = true
            configuration.voice.mediaIP = "127.0.0.1"
            configuration.voice.turnPort = port
            configuration.voice.turnRelayPorts = 50_150...50_190
            configuration.voice.turnCredentialLifetime = .seconds(90)
        }
        var stopped = false
        defer { if !stopped { Task { await server.stopAndRemove() } } }
        let folder = server.directory.appendingPathComponent("voice/coturn")
        let alice = try await server.owner("alice")
        let joined = try await alice.connection.call(VoiceChannelCodec.joinCall, on: ChannelAddress(path: "General", name: "VC-1"), codec: "voice")
        let servers = try #require(joined.payload["ice_servers"]?.arrayValue)
        #expect(servers.first?["urls"] == .array([.string("stun:127.0.0.1:\(port)")]))
        #expect(servers.last?["urls"] == [.string("turn:127.0.0.1:\(port)?transport=udp"), .string("turn:127.0.0.1:\(port)?transport=tcp")])
        let secrets = try JSONValue.parse(String(contentsOf: server.directory.appendingPathComponent("voice/secrets.json"), encoding: .utf8))
        let secret = try #require(secrets["turn_secret"]?.stringValue)
        let username = try #require(servers.last?["username"]?.stringValue)
        #expect(servers.last?["credential"]?.stringValue == ICEProvider.password(username: username, secret: secret))
        // `EXPIRY:USER_ID`, 90 s from now, as ice_expires_at says (ms); refresh_ice gives a new one as far ahead.
        let expiry = try #require(Int64(username.split(separator: ":")[0]))
        let now = Int64(Date().timeIntervalSince1970)
        #expect((now + 85...now + 91).contains(expiry), "expiry \(expiry) at \(now)")
        #expect(joined.payload["ice_expires_at"]?.intValue == expiry * 1000)
        try await Task.sleep(for: .seconds(1.1))
        let refreshed = try await alice.connection.call(
            VoiceChannelCodec.refreshICE, on: ChannelAddress(path: "General", name: "VC-1"), codec: "voice"
        )
        let renewed = try #require(refreshed.payload["ice_servers"]?.arrayValue?.last?["username"]?.stringValue)
        #expect(try #require(Int64(renewed.split(separator: ":")[0])) > expiry)
        #expect(renewed.hasSuffix(":\(alice.identity.userID.value)"))

        // Its configuration is under the data folder, and it runs on it until the server stops.
        var pid: Int32?
        for _ in 0..<100 where pid == nil {
            pid = (try? String(contentsOf: folder.appendingPathComponent("turnserver.pid"), encoding: .utf8)).flatMap { Int32($0) }
            if pid == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let running = try #require(pid, "no turnserver started")
        let config = try String(contentsOf: folder.appendingPathComponent("turnserver.conf"), encoding: .utf8)
        #expect(config.contains("listening-ip=127.0.0.1") && config.contains("static-auth-secret=\(secret)") && config.contains("no-cli"))
        #expect(kill(running, 0) == 0)
        await server.stop()
        stopped = true
        var gone = false
        for _ in 0..<100 where !gone {
            gone = kill(running, 0) != 0
            if !gone { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(gone, "turnserver still runs after the server stopped")
        try? FileManager.default.removeItem(at: server.directory)
    }
}
