/// The `log.log_level` of an envelope: how important its human-readable `log.message` is.
public enum LogLevel: Int, Sendable, Hashable {
    case debug = 0
    case info = 1
    case warning = 2
    case error = 3
}
