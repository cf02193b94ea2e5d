import CommuneProtocol
import Synchronization

/// Read marks not yet written: a member who reads along in a busy channel marks it read again and again; the
/// marks are kept here (the newest per member and channel) and written together, at most once a second, by
/// whoever calls ``flush(to:)`` (the server's `ReadMarkFlusher`, and the server's shutdown). A crash loses at most
/// the last second of read marks, never a message.
public final class ReadMarkBuffer: Sendable {
    /// member → channel → message id.
    private let pending = Mutex<[UUIDString: [Int64: Int64]]>([:])

    public init() {}

    /// Keeps `messageID` as `member`'s mark in `channel` if it is ahead of the pending one.
    func keep(member: UUIDString, channel: Int64, messageID: Int64) {
        self.pending.withLock { pending in
            pending[member, default: [:]][channel] = max(pending[member]?[channel] ?? 0, messageID)
        }
    }

    /// `member`'s pending marks: channel → message id.
    func marks(of member: UUIDString) -> [Int64: Int64] {
        self.pending.withLock { $0[member] ?? [:] }
    }

    /// How many marks wait to be written.
    public var count: Int { self.pending.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    /// Writes the pending marks in one store call. On failure they stay pending (unless newer ones replaced them)
    /// and the error is thrown for the caller to log.
    public func flush(to store: any ReadStateStore) async throws {
        let taken = self.pending.withLock { pending in
            defer { pending = [:] }
            return pending
        }
        guard !taken.isEmpty else { return }
        do {
            try await store.saveReadMarks(
                taken.flatMap { member, marks in marks.map { ReadMark(memberID: member, channelID: $0.key, messageID: $0.value) } }
            )
        } catch {
            self.pending.withLock { pending in
                for (member, marks) in taken {
                    for (channel, id) in marks { pending[member, default: [:]][channel] = max(pending[member]?[channel] ?? 0, id) }
                }
            }
            throw error
        }
    }
}
