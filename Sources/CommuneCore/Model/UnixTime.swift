import Foundation

/// Wall-clock time as Commune stores and sends it: Unix milliseconds.
public enum UnixTime {
    public static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}
