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

    /// The CPU time of `pid` and of its children (a PostgreSQL postmaster and its backends), in seconds, by
    /// process id: a backend that ended meanwhile is missing from a later reading.
    static func treeCPU(root: Int32) -> [Int32: Double] {
        var times: [Int32: Double] = [:]
        if let stats = self.read(pid: root) { times[root] = stats.cpuSeconds }
        guard let directory = opendir("/proc") else { return times }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = Int32(name), pid != root, let stat = self.readFile("/proc/\(pid)/stat"),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // ppid is field 4 (1-based), the second after the command name.
            guard fields.count > 13, Int32(fields[1]) == root, let utime = Double(fields[11]), let stime = Double(fields[12]) else {
                continue
            }
            times[pid] = (utime + stime) / Double(sysconf(Int32(_SC_CLK_TCK)))
        }
        return times
    }

    /// CPU seconds spent between two ``treeCPU(root:)`` readings (a process new in the second counts from zero).
    static func cpuBetween(_ start: [Int32: Double], _ end: [Int32: Double]) -> Double {
        end.reduce(0) { sum, entry in sum + entry.value - (start[entry.key] ?? 0) }
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
