import Foundation
import Logging
import ServiceLifecycle

/// Commune's own coturn (`turnserver`): its configuration written under the data folder (`<data>/voice/coturn/`,
/// never the stock `/etc/turnserver.conf`), TURN REST credentials only (`use-auth-secret` with the secret in
/// `<data>/voice/secrets.json`), listening and relaying on the media address, relaying only to that address and to
/// public ones (never to this machine's other loopback or private networks), no CLI, no TLS.
struct TURNServer: Sendable {
    /// Where `turnserver` is.
    var binary: URL
    /// The folder its configuration, log and pid file go in.
    var folder: URL
    /// The address it listens and relays on (the media address), and the one clients are told.
    var listenAddress: String
    var publicAddress: String
    var port: Int
    var relayPorts: ClosedRange<Int>
    var secret: String

    /// `turnserver` on `PATH`, if installed.
    static func find(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        let folders = (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
        return folders.map { URL(fileURLWithPath: "\($0)/turnserver") }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    var configFile: URL { self.folder.appendingPathComponent("turnserver.conf") }

    /// The URLs members are given.
    var urls: [String] {
        let host = self.publicAddress.contains(":") ? "[\(self.publicAddress)]" : self.publicAddress
        return ["turn:\(host):\(self.port)?transport=udp", "turn:\(host):\(self.port)?transport=tcp"]
    }

    var stunURL: String {
        let host = self.publicAddress.contains(":") ? "[\(self.publicAddress)]" : self.publicAddress
        return "stun:\(host):\(self.port)"
    }

    /// The configuration file's text.
    var configuration: String {
        var lines = [
            "# Written by commune serve at each start; edits are lost. Its own coturn, not the system's.",
            "listening-ip=\(self.listenAddress)",
            "relay-ip=\(self.listenAddress)",
            "listening-port=\(self.port)",
            "min-port=\(self.relayPorts.lowerBound)",
            "max-port=\(self.relayPorts.upperBound)",
            "use-auth-secret",
            "static-auth-secret=\(self.secret)",
            "realm=commune",
            "fingerprint",
            "no-cli",
            "no-tls",
            "no-dtls",
            "no-multicast-peers",
            "no-software-attribute",
            "stale-nonce=600",
            "userdb=\(self.folder.appendingPathComponent("turndb").path)",
            "pidfile=\(self.folder.appendingPathComponent("coturn-own.pid").path)",
            "log-file=stdout",
            "simple-log",
        ]
        // Relaying into this machine's own networks would let a member reach services that are not meant to be
        // reachable; only the media address (the SFU) is allowed among them.
        for range in ["0.0.0.0-0.255.255.255", "10.0.0.0-10.255.255.255", "100.64.0.0-100.127.255.255", "127.0.0.0-127.255.255.255",
            "169.254.0.0-169.254.255.255", "172.16.0.0-172.31.255.255", "192.168.0.0-192.168.255.255", "224.0.0.0-255.255.255.255",
        ] {
            lines.append("denied-peer-ip=\(range)")
        }
        lines.append("allowed-peer-ip=\(self.listenAddress)")
        if self.listenAddress.hasPrefix("127.") { lines.append("allow-loopback-peers") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the configuration file (mode 0600: it holds the secret).
    func write() throws {
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: self.folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try? fileManager.removeItem(at: self.configFile)
        guard fileManager.createFile(atPath: self.configFile.path, contents: Data(self.configuration.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: self.configFile.path])
        }
    }
}

/// Keeps Commune's coturn running: writes its configuration, starts it, and restarts it with a back-off (0.5 s,
/// doubling up to 30 s; back to 0.5 s after a minute of good running) if it dies. Stops it on shutdown.
struct TURNSupervisor: Service {
    let server: TURNServer
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.supervise()
        }
    }

    private func supervise() async {
        var delay: Duration = .milliseconds(500)
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let reason: String
            do {
                try self.server.write()
                let child = try ChildProcess.start(
                    name: "turnserver", executable: self.server.binary, arguments: ["-c", self.server.configFile.path], folder: self.server.folder,
                    logger: self.logger
                )
                self.logger.info("Voice: TURN server (coturn) is running", metadata: ["pid": "\(child.pid)", "urls": "\(self.server.urls.joined(separator: " "))"])
                let status = await withTaskCancellationHandler {
                    await child.waitForExit()
                } onCancel: {
                    Task { await child.stop() }
                }
                if Task.isCancelled {
                    await child.stop()
                    return
                }
                reason = "turnserver exited with status \(status); see \(self.server.folder.appendingPathComponent("turnserver.log").path)"
            } catch {
                reason = "\(error)"
            }
            if ContinuousClock.now - started > .seconds(60) { delay = .milliseconds(500) }
            self.logger.error("Voice: the TURN server stopped (\(reason)); restarting it in \(delay)")
            do { try await Task.sleep(for: delay) } catch { return }
            delay = min(delay * 2, .seconds(30))
        }
    }
}
