import CommuneProtocol
import Synchronization

/// Read marks not yet written: a member who reads along in a busy channel marks it read again and again; the
/// marks are kept here (the newest per member and channel) and written together, at most once a second, by
/// whoever calls ``flush(to:)`` (the server's `ReadMarkFlusher`, and the server's shutdown). A crash loses at most
/// the last second of read marks, never a message.
///
/// It also remembers what `mark_read` needs to answer from memory after a member's first mark: their marks, and each
/// channel's newest message id (kept current by the sends of this process; a cluster of nodes must tell each other).
public final class ReadMarkBuffer: Sendable {
    private struct State {
        /// Marks to write: member → channel → message id.
        var pending: [UUIDString: [Int64: Int64]] = [:]
        /// Every member's marks as far as this process knows them (read from the store once, then kept current):
        /// member → channel → message id. A member absent here has not been read yet.
        var known: [UUIDString: [Int64: Int64]] = [:]
        /// The newest message id of each channel, once read from the store, kept current by ``messageStored``.
        var newest: [Int64: Int64] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Keeps `messageID` as `member`'s mark in `channel` if it is ahead of the pending one.
    func keep(member: UUIDString, channel: Int64, messageID: Int64) {
        self.state.withLock { state in
            state.pending[member, default: [:]][channel] = max(state.pending[member]?[channel] ?? 0, messageID)
            state.known[member, default: [:]][channel] = max(state.known[member]?[channel] ?? 0, messageID)
        }
    }

    /// `member` sent message `messageID` in `channel`: having written it, they have read the channel up to it, so
    /// their mark moves there (never back).
    func sent(by member: UUIDString, channel: Int64, messageID: Int64) {
        self.state.withLock { state in
            state.pending[member, default: [:]][channel] = max(state.pending[member]?[channel] ?? 0, messageID)
            // Only a member whose marks were read from the store is known; a partial entry would hide the rest.
            if let known = state.known[member] { state.known[member]?[channel] = max(known[channel] ?? 0, messageID) }
        }
    }

    /// `member`'s pending marks: channel → message id.
    func marks(of member: UUIDString) -> [Int64: Int64] {
        self.state.withLock { $0.pending[member] ?? [:] }
    }

    /// `member`'s marks if they were read from the store already (with the pending ones in them), else `nil`.
    func knownMarks(of member: UUIDString) -> [Int64: Int64]? {
        self.state.withLock { $0.known[member] }
    }

    /// Remembers `member`'s marks as the store has them (the pending ones stay ahead).
    func remember(_ stored: [Int64: Int64], of member: UUIDString) {
        self.state.withLock { state in
            state.known[member] = stored.merging(state.pending[member] ?? [:], uniquingKeysWith: max)
        }
    }

    /// The newest message id of `channel` if known.
    func newestMessage(in channel: Int64) -> Int64? {
        self.state.withLock { $0.newest[channel] }
    }

    /// A message was stored in `channel` with `id` (or the store says the newest is `id`).
    public func messageStored(in channel: Int64, id: Int64) {
        self.state.withLock { state in
            state.newest[channel] = max(state.newest[channel] ?? 0, id)
        }
    }

    /// How many marks wait to be written.
    public var count: Int { self.state.withLock { $0.pending.values.reduce(0) { $0 + $1.count } } }

    /// Writes the pending marks in one store call. On failure they stay pending (unless newer ones replaced them)
    /// and the error is thrown for the caller to log.
    public func flush(to store: any ReadStateStore) async throws {
        let taken = self.state.withLock { state in
            defer { state.pending = [:] }
            return state.pending
        }
        guard !taken.isEmpty else { return }
        do {
            try await store.saveReadMarks(
                taken.flatMap { member, marks in marks.map { ReadMark(memberID: member, channelID: $0.key, messageID: $0.value) } }
            )
        } catch {
            self.state.withLock { state in
                for (member, marks) in taken {
                    for (channel, id) in marks { state.pending[member, default: [:]][channel] = max(state.pending[member]?[channel] ?? 0, id) }
                }
            }
            throw error
        }
    }
}
