/// What an acknowledged write survives: SQLite's `synchronous` setting in WAL mode.
///
/// Commune acknowledges a message only after its transaction commits, and the database stays consistent either way;
/// the setting decides whether the commit also waits for the disk.
public enum Durability: String, Sendable, CaseIterable {
    /// `synchronous = NORMAL` (the default): the write-ahead log is flushed to the disk at checkpoints, not at every
    /// commit. An acknowledged message survives the server process crashing or being killed, but the last
    /// acknowledged messages (up to the last checkpoint) may be lost if the machine loses power or its kernel crashes.
    case normal
    /// `synchronous = FULL`: every commit waits until the write-ahead log is on the disk (`fsync`). An acknowledged
    /// message survives a power loss too (on a disk that honours flushes), at the cost of one flush per commit
    /// (group commit shares it between concurrent sends).
    case full

    /// The `PRAGMA synchronous` value.
    var pragma: String {
        switch self {
        case .normal: "NORMAL"
        case .full: "FULL"
        }
    }
}
