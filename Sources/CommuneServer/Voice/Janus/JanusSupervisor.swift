import Foundation
import Logging
import ServiceLifecycle

/// Keeps the SFU's Janus up for ``JanusCalls``: starts Commune's own `janus` child (or connects to an operator's
/// Janus), waits until its API answers, hands the connection to the calls, and when Janus dies or the connection
/// drops ends every call (members are told `media_restarted`) and starts again after a back-off (0.5 s, doubling
/// up to 30 s; back to 0.5 s after a minute of good running). Stops the child on server shutdown.
struct JanusSupervisor: Service {
    /// Where Janus comes from.
    enum Launch: Sendable {
        /// Commune's own child: its config folder is written afresh (with a new free API port) at each start.
        case child(JanusConfigFolder)
        /// An operator-run Janus at this WebSocket URL.
        case external(url: String, apiSecret: String?)
    }

    let calls: JanusCalls
    let launch: Launch
    let logger: Logger

    static let firstDelay: Duration = .milliseconds(500)
    static let longestDelay: Duration = .seconds(30)
    /// How long Janus gets to exit after SIGTERM before SIGKILL. It keeps nothing worth flushing, and a child may
    /// inherit SIGTERM blocked from the thread that spawned it (seen in tests), so this is short.
    static let stopGrace: Duration = .milliseconds(300)
    /// How long Janus may take to answer after it starts.
    static let startTimeout: Duration = .seconds(10)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.supervise()
        }
    }

    private func supervise() async {
        var delay = Self.firstDelay
        defer {
            // Only a shutdown should end supervision; say so either way, so that a Janus left down is never silent.
            self.logger.notice("Voice: Janus supervision ended\(Task.isCancelled ? " (the server is stopping)" : "")")
        }
        while !Task.isCancelled {
            let started = ContinuousClock.now
            var process: ChildProcess?
            let reason: String
            do {
                let (client, child, url) = try await self.start()
                process = child
                self.logger.info("Voice: Janus is ready", metadata: ["pid": "\(child.map { String($0.pid) } ?? "external")", "api": "\(url)"])
                await self.calls.serve(client, pid: child?.pid)
                await client.close()
                if let child, child.hasExited {
                    reason = "janus exited with status \(await child.waitForExit())"
                } else {
                    reason = "the connection to Janus closed"
                }
            } catch {
                reason = "\(error)"
            }
            if Task.isCancelled {
                await self.calls.lost(endingCalls: false)
                await process?.stop(grace: Self.stopGrace)
                return
            }
            await self.calls.lost(endingCalls: true)
            await process?.stop(grace: Self.stopGrace)
            if ContinuousClock.now - started > .seconds(60) { delay = Self.firstDelay }
            self.logger.error("Voice: Janus stopped (\(reason)); calls ended; restarting it in \(delay)")
            do {
                try await Task.sleep(for: delay)
            } catch {
                self.logger.notice("Voice: not restarting Janus: cancelled while waiting to restart it")
                return
            }
            self.logger.info("Voice: starting Janus again")
            delay = min(delay * 2, Self.longestDelay)
        }
    }

    private struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts the child if there is one and connects; retries the connection until Janus answers. Returns the
    /// connection, the child, and the API's URL.
    private func start() async throws -> (JanusClient, ChildProcess?, String) {
        switch self.launch {
        case .external(let url, let apiSecret):
            return (try await JanusClient.open(url: url, apiSecret: apiSecret, logger: self.logger), nil, url)
        case .child(var folder):
            guard let port = MediaAddress.freeLoopbackPort() else { throw StartFailure(description: "no free port on 127.0.0.1 for Janus's API") }
            folder.apiPort = port
            try folder.write()
            let process = try ChildProcess.start(
                name: "janus", executable: folder.installation.binary,
                arguments: ["--configs-folder", folder.folder.path, "--config", folder.configFile.path, "--disable-colors"], folder: folder.folder,
                logger: self.logger
            )
            let deadline = ContinuousClock.now + Self.startTimeout
            while true {
                do {
                    let client = try await JanusClient.open(url: folder.apiURL, apiSecret: folder.apiSecret, logger: self.logger)
                    return (client, process, folder.apiURL)
                } catch {
                    if process.hasExited {
                        let log = folder.folder.appendingPathComponent("janus.log").path
                        throw StartFailure(description: "janus exited with status \(await process.waitForExit()) at start; see \(log)")
                    }
                    if ContinuousClock.now > deadline || Task.isCancelled {
                        await process.stop(grace: Self.stopGrace)
                        throw StartFailure(description: "janus did not answer on \(folder.apiURL) within \(Self.startTimeout)")
                    }
                    try? await Task.sleep(for: .milliseconds(50))
                }
            }
        }
    }
}
