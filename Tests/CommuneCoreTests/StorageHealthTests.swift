import CommuneCore
import CommuneProtocol
import Logging
import Synchronization
import Testing

/// A full disk is logged once when writes start failing and once when they succeed again, not per refused write.
@Suite("Storage health")
struct StorageHealthTests {
    /// Keeps every log line.
    final class Capture: Sendable {
        let lines = Mutex<[(Logger.Level, String)]>([])

        var logger: Logger {
            Logger(label: "commune.test") { _ in Handler(capture: self) }
        }

        struct Handler: LogHandler {
            let capture: Capture
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .trace
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { self.metadata[key] }
                set { self.metadata[key] = newValue }
            }
            func log(event: LogEvent) {
                self.capture.lines.withLock { $0.append((event.level, event.message.description)) }
            }
        }
    }

    @Test("a hundred refused writes log one error; the first success after them logs one notice")
    func logsOnce() {
        let capture = Capture()
        let health = StorageHealth(logger: capture.logger)
        health.wrote()
        for _ in 0..<100 {
            #expect(health.full("the message was not stored.") == CommuneError(.storageFull, "The server's storage is full; the message was not stored. Try again later."))
        }
        #expect(health.isStorageFull)
        for _ in 0..<10 { health.wrote() }
        #expect(!health.isStorageFull)
        _ = health.full("the registration was not stored.")
        let levels = capture.lines.withLock { $0.map(\.0) }
        #expect(levels == [.error, .notice, .error])
    }
}
