import Synchronization

/// Which part of the member list each connection shows (its last `get_members` range; the first page from login),
/// so that a member's presence and changes reach the connections that show them and no others: what a login
/// costs does not grow with the members online (Discord's large-guild member list).
///
/// Ranges are indexed by chunks of ``chunk`` places, so finding who shows place `r` reads only the connections
/// whose range touches `r`'s chunk.
public final class MemberListSubscriptions: Sendable {
    /// Places per chunk of the index.
    static let chunk = 100

    private struct State {
        var ranges: [ConnectionID: Range<Int>] = [:]
        var byChunk: [Int: Set<ConnectionID>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    private static func chunks(of range: Range<Int>) -> ClosedRange<Int>? {
        range.isEmpty ? nil : (range.lowerBound / Self.chunk)...((range.upperBound - 1) / Self.chunk)
    }

    /// `connection` shows places `range` of the list from now on (an empty range: none), instead of what it showed.
    public func subscribe(_ connection: ConnectionID, to range: Range<Int>) {
        self.state.withLock { state in
            Self.remove(connection, from: &state)
            guard let chunks = Self.chunks(of: range) else { return }
            state.ranges[connection] = range
            for chunk in chunks { state.byChunk[chunk, default: []].insert(connection) }
        }
    }

    /// `connection` closed.
    public func unsubscribe(_ connection: ConnectionID) {
        self.state.withLock { Self.remove(connection, from: &$0) }
    }

    private static func remove(_ connection: ConnectionID, from state: inout State) {
        guard let old = state.ranges.removeValue(forKey: connection), let chunks = Self.chunks(of: old) else { return }
        for chunk in chunks {
            state.byChunk[chunk]?.remove(connection)
            if state.byChunk[chunk]?.isEmpty == true { state.byChunk[chunk] = nil }
        }
    }

    /// What `connection` shows now (`nil`: nothing).
    public func range(of connection: ConnectionID) -> Range<Int>? {
        self.state.withLock { $0.ranges[connection] }
    }

    /// The connections showing any of the places `ranks`.
    public func connections(showing ranks: [Int]) -> Set<ConnectionID> {
        self.state.withLock { state in
            var found: Set<ConnectionID> = []
            for rank in ranks where rank >= 0 {
                for connection in state.byChunk[rank / Self.chunk] ?? [] where state.ranges[connection]?.contains(rank) == true {
                    found.insert(connection)
                }
            }
            return found
        }
    }

    /// The connections whose range holds every place of a list of `total` members: they see every change, so
    /// they need no counts.
    public func connections(showingAllOf total: Int) -> Set<ConnectionID> {
        self.state.withLock { state in
            // Only a range that starts at 0 can hold them all: those are in chunk 0.
            Set((state.byChunk[0] ?? []).filter { state.ranges[$0].map { $0.lowerBound == 0 && $0.upperBound >= total } ?? false })
        }
    }
}
