import CommuneProtocol
import Logging
import Synchronization

/// Whether the store has room, so that a full disk is logged once when it fills and once when it has room again,
/// not once per refused write.
public final class StorageHealth: Sendable {
    private let isFull = Mutex(false)
    private let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Records that a write failed for lack of space (``StoreError/storageFull``) and returns the error the client
    /// gets; logs only the first such failure until a write succeeds again.
    public func full(_ refused: String) -> CommuneError {
        let first = self.isFull.withLock { isFull in
            defer { isFull = true }
            return !isFull
        }
        if first {
            self.logger.error("The storage is full: writes are refused until there is room again (free disk space or raise the database's size limit)")
        }
        return CommuneError(.storageFull, "The server's storage is full; \(refused) Try again later.")
    }

    /// Records a successful write; logs once that there is room again after ``full(_:)``.
    public func wrote() {
        let recovered = self.isFull.withLock { isFull in
            defer { isFull = false }
            return isFull
        }
        if recovered { self.logger.notice("The storage has room again: writes succeed") }
    }

    /// Whether the last write failed for lack of space.
    public var isStorageFull: Bool { self.isFull.withLock { $0 } }
}
