import Foundation
import NIOCore

/// The cores this process may run on (its CPU affinity, as `taskset` or `numactl` set it), to size the event-loop
/// group: swift-nio's singleton group has one loop per core of the machine (``System/coreCount`` sees cgroup limits,
/// not the affinity), so a server pinned to one core of two ran two loops on it, and a message fanned out to members
/// on both woke both.
public enum AllowedCores {
    /// Sizes swift-nio's singleton event-loop groups to the cores the process may run on, when that is fewer than the
    /// machine's and `NIO_SINGLETON_GROUP_LOOP_COUNT` does not set the size. Call first thing in the server's process,
    /// before anything uses the groups (`commune serve` does; tests do not).
    public static func sizeEventLoops() {
        guard ProcessInfo.processInfo.environment["NIO_SINGLETON_GROUP_LOOP_COUNT"] == nil,
            let allowed = self.count(), allowed < System.coreCount
        else { return }
        NIOSingletons.groupLoopCountSuggestion = allowed
    }

    /// How many cores the process may run on (`Cpus_allowed_list` in `/proc/self/status`); `nil` where that is not
    /// known.
    static func count() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }),
            let list = line.split(separator: ":", maxSplits: 1).last
        else { return nil }
        return self.count(list: list.trimmingCharacters(in: .whitespaces))
    }

    /// The cores in a kernel CPU list such as `0`, `0-3` or `0,2-3,8`; `nil` when it is not one.
    static func count(list: String) -> Int? {
        var total = 0
        for part in list.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            switch bounds.count {
            case 1:
                guard bounds[0] != nil else { return nil }
                total += 1
            case 2:
                guard let low = bounds[0], let high = bounds[1], low <= high else { return nil }
                total += high - low + 1
            default:
                return nil
            }
        }
        return total > 0 ? total : nil
    }
}
