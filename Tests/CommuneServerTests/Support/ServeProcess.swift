import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A `commune serve` child process on a loopback port, its output in files of its own folder (`arguments` added to
/// `serve --host 127.0.0.1 --port 0 --data DATA`).
final class ServeProcess {
    let process = Process()
    let directory: URL
    var port = 0

    var pid: pid_t { self.process.processIdentifier }
    var standardOutput: String { (try? String(contentsOf: self.directory.appendingPathComponent("stdout.txt"), encoding: .utf8)) ?? "" }
    var standardError: String { (try? String(contentsOf: self.directory.appendingPathComponent("stderr.txt"), encoding: .utf8)) ?? "" }

    init(arguments: [String] = [], data: URL? = nil) throws {
        // The test bundle and the executables share one build folder.
        let build = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let binary = build.appendingPathComponent("commune")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw TestFailure("\(binary.path) is missing: build it first (swift build)")
        }
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("commune-serve-\(UUID().uuidString)")
        let data = data ?? self.directory.appendingPathComponent("data")
        for folder in [self.directory, data] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        let output = self.directory.appendingPathComponent("stdout.txt"), errors = self.directory.appendingPathComponent("stderr.txt")
        for file in [output, errors] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        self.process.executableURL = binary
        self.process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0", "--data", data.path] + arguments
        self.process.standardOutput = try FileHandle(forWritingTo: output)
        self.process.standardError = try FileHandle(forWritingTo: errors)
        try self.process.run()
    }

    /// Waits (at most 60 s: a debug build starts slowly on a busy machine) for the line with the server's address.
    func waitUntilListening() async throws {
        for _ in 0..<600 {
            if let range = self.standardOutput.range(of: #"running at http://127\.0\.0\.1:\d+"#, options: .regularExpression),
                let port = Int(self.standardOutput[range].split(separator: ":").last ?? "")
            {
                self.port = port
                return
            }
            guard self.process.isRunning else { throw TestFailure("commune serve exited: \(self.standardError)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("commune serve did not start within 60 s")
    }

    var openDescriptors: Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(self.pid)/fd").count) ?? 0 }

    /// Sets the child's soft and hard open file limit with util-linux's `prlimit` (Glibc's `prlimit()` is not
    /// visible to Swift).
    func limitDescriptors(to count: Int) throws {
        let tool = Process()
        tool.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
        tool.arguments = ["--pid", "\(self.pid)", "--nofile=\(count):\(count)"]
        try tool.run()
        tool.waitUntilExit()
        guard tool.terminationStatus == 0 else { throw TestFailure("prlimit --pid \(self.pid) --nofile=\(count):\(count) failed") }
    }

    /// User and system CPU time the child has used, in seconds (`/proc/PID/stat` fields 14 and 15).
    func cpuSeconds() throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(self.pid)/stat", encoding: .utf8)
        // Fields after the command name (which is in parentheses and may hold spaces); the first is field 3.
        guard let close = stat.lastIndex(of: ")") else { throw TestFailure("unreadable /proc/\(self.pid)/stat") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw TestFailure("unreadable /proc/\(self.pid)/stat")
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// `kill -9`: the process ends at once, saying nothing to anyone.
    func killHard() {
        if self.process.isRunning { kill(self.pid, SIGKILL) }
        self.process.waitUntilExit()
    }

    func stop() {
        if self.process.isRunning {
            kill(self.pid, SIGTERM)
            for _ in 0..<100 where self.process.isRunning { usleep(50_000) }
            if self.process.isRunning { kill(self.pid, SIGKILL) }
        }
        self.process.waitUntilExit()
        try? FileManager.default.removeItem(at: self.directory)
    }
}
