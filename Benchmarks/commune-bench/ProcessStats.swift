#if canImport(Glibc)
import Glibc
#endif

/// The server's own CPU time and resident memory, read from `/proc/PID/stat` and `/proc/PID/status`.
struct ProcessStats: Sendable {
    /// User plus system CPU time, in seconds.
    var cpuSeconds: Double
    /// Resident set size, in KiB.
    var residentKiB: Int

    static func read(pid: Int32) -> ProcessStats? {
        guard let stat = self.readFile("/proc/\(pid)/stat"), let status = self.readFile("/proc/\(pid)/status") else {
            return nil
        }
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15 (1-based).
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let utime = Double(fields[11]), let stime = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var rss = 0
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            rss = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return ProcessStats(cpuSeconds: (utime + stime) / ticks, residentKiB: rss)
    }

    private static func readFile(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
