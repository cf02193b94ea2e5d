import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One run of a media server the voice backend starts as a child (`turnserver`; Janus has its own): its output in
/// `NAME.log` in its folder (the previous run's kept as `NAME.log.1`), its pid in `NAME.pid`, so that a server killed
/// without a chance to stop it cleans up after itself on its next start.
final class ChildProcess: Sendable {
    let name: String
    let pid: Int32
    private let process: Process
    private let exit: ExitStatus

    /// The child's exit status once it has one, and who waits for it.
    private final class ExitStatus: Sendable {
        let state = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))
    }

    private init(name: String, process: Process, exit: ExitStatus) {
        self.name = name
        self.process = process
        self.pid = process.processIdentifier
        self.exit = exit
    }

    /// Starts `executable` with `arguments` in `folder` (which exists).
    static func start(name: String, executable: URL, arguments: [String], folder: URL, logger: Logger) throws -> ChildProcess {
        let fileManager = FileManager.default
        let pidFile = folder.appendingPathComponent("\(name).pid")
        Self.killStale(name: name, pidFile: pidFile, folder: folder, logger: logger)
        let log = folder.appendingPathComponent("\(name).log")
        let previous = folder.appendingPathComponent("\(name).log.1")
        if fileManager.fileExists(atPath: log.path) {
            try? fileManager.removeItem(at: previous)
            try? fileManager.moveItem(at: log, to: previous)
        }
        guard fileManager.createFile(atPath: log.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: log.path])
        }
        let output = try FileHandle(forWritingTo: log)
        defer { try? output.close() }

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        let exit = ExitStatus()
        process.terminationHandler = { process in
            let status = process.terminationStatus
            let waiters = exit.state.withLock { state in
                state.status = status
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: status) }
        }
        try process.run()
        try? String(process.processIdentifier).write(to: pidFile, atomically: true, encoding: .utf8)
        return ChildProcess(name: name, process: process, exit: exit)
    }

    var hasExited: Bool { self.exit.state.withLock { $0.status != nil } }

    /// Waits until the process exits; returns its status (or signal).
    func waitForExit() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status = self.exit.state.withLock { state -> Int32? in
                if let status = state.status { return status }
                state.waiters.append(continuation)
                return nil
            }
            if let status { continuation.resume(returning: status) }
        }
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    func stop(grace: Duration = .seconds(3)) async {
        guard !self.hasExited else { return }
        kill(self.pid, SIGTERM)
        let killer = Task {
            try await Task.sleep(for: grace)
            if !self.hasExited { kill(self.pid, SIGKILL) }
        }
        _ = await self.waitForExit()
        killer.cancel()
    }

    /// A child still running on `folder` from an earlier server (killed before it could stop it).
    private static func killStale(name: String, pidFile: URL, folder: URL, logger: Logger) {
        guard let text = try? String(contentsOf: pidFile, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
            pid > 0, let command = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))
        else { return }
        let arguments = command.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard arguments.contains(where: { $0.contains(folder.path) }) else { return }
        logger.warning("Stopping a \(name) left running by an earlier server", metadata: ["pid": "\(pid)"])
        kill(pid, SIGKILL)
    }
}
