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
        defer { supervisor.cancel() }

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
