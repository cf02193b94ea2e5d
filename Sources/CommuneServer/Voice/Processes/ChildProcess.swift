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
    private let exit: ExitStatus

    /// The child's exit status once it has one, and who waits for it.
    private final class ExitStatus: Sendable {
        let state = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))
    }

    private init(name: String, pid: Int32, exit: ExitStatus) {
        self.name = name
        self.pid = pid
        self.exit = exit
    }

    /// Starts `executable` with `arguments`; its log and pid file go in `folder` (which exists).
    ///
    /// Spawned with `posix_spawn` rather than Foundation's `Process`: the child starts with no signal blocked and
    /// SIGTERM, SIGINT, SIGHUP and SIGPIPE at their defaults (the server ignores or blocks some of them for its own
    /// handling, and a child inherits that, so it would not stop on SIGTERM), and with no descriptor of the server's
    /// but its log.
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
        let output = open(log.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: log.path]) }
        defer { close(output) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, output, 2)
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable.path] + arguments).map { strdup($0) }
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let spawned = (argv + [nil]).withUnsafeBufferPointer { argv in
            posix_spawn(&pid, executable.path, &actions, &attributes, argv.baseAddress!, environ)
        }
        guard spawned == 0 else {
            throw CocoaError(.executableLoad, userInfo: [NSFilePathErrorKey: executable.path, NSLocalizedDescriptionKey: String(cString: strerror(spawned))])
        }
        let exit = ExitStatus()
        // One thread per child waits for it (a blocking waitpid; a server has two children at most).
        let waited = pid
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(waited, &status, 0) == -1 && errno == EINTR {}
            // The exit code, or the signal that ended it.
            let code = status & 0x7F == 0 ? (status >> 8) & 0xFF : status & 0x7F
            let waiters = exit.state.withLock { state in
                state.status = code
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: code) }
        }
        try? String(pid).write(to: pidFile, atomically: true, encoding: .utf8)
        return ChildProcess(name: name, pid: pid, exit: exit)
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift's Glibc module does not import.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }

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
