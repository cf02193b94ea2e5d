import NIOCore
import Synchronization

/// Writes queued frames to the sockets of one event loop, coalescing bursts.
///
/// A round normally runs at once. Under load the next round waits for the rest of `interval`, so every
/// connection gets everything that piled up in one `writev` instead of one system call per frame. The loop is
/// under load when the last round that wrote to many connections (``busyRoundConnections``, a broadcast) ran
/// less than `interval` ago, or when rounds come back to back (less than a fifth of `interval` apart, as with a
/// client that pipelines sends). The cost is at most `interval` of added latency, and only under load: a client
/// that waits for each reply before its next request is not held back.
final class LoopFlusher: Sendable {
    private struct State {
        var due: [Outbox] = []
        var scheduled = false
        /// When the last round that wrote to many connections ran.
        var lastBusyRound = NIODeadline.uptimeNanoseconds(0)
        /// When the last round ran.
        var lastRound = NIODeadline.uptimeNanoseconds(0)
    }

    /// A round that writes to this many connections or more makes the next one wait for the interval.
    static let busyRoundConnections = 16

    let eventLoop: any EventLoop
    let interval: TimeAmount
    private let state = Mutex(State())

    init(eventLoop: any EventLoop, interval: TimeAmount) {
        self.eventLoop = eventLoop
        self.interval = interval
    }

    /// Schedules `outboxes` (which each have frames waiting and no drain due yet) for the next round.
    func schedule(_ outboxes: some Sequence<Outbox>) {
        let start = self.state.withLock { state -> NIODeadline? in
            state.due.append(contentsOf: outboxes)
            guard !state.scheduled, !state.due.isEmpty else { return nil }
            state.scheduled = true
            if .now() < state.lastRound + TimeAmount.nanoseconds(self.interval.nanoseconds / 5) {
                return state.lastRound + self.interval
            }
            return state.lastBusyRound + self.interval
        }
        guard let start else { return }
        if start <= .now() {
            self.eventLoop.execute { self.round() }
        } else {
            self.eventLoop.scheduleTask(deadline: start) { self.round() }
        }
    }

    func schedule(_ outbox: Outbox) {
        self.schedule(CollectionOfOne(outbox))
    }

    /// One flush round, on the event loop.
    private func round() {
        let due = self.state.withLock { state -> [Outbox] in
            state.scheduled = false
            state.lastRound = .now()
            if state.due.count >= Self.busyRoundConnections { state.lastBusyRound = state.lastRound }
            let due = state.due
            state.due = []
            return due
        }
        for outbox in due {
            outbox.drain()
        }
    }
}

/// The flusher of each event loop, made on first use.
final class LoopFlushers: Sendable {
    private let flushers = Mutex<[ObjectIdentifier: LoopFlusher]>([:])
    let interval: TimeAmount

    init(interval: TimeAmount) {
        self.interval = interval
    }

    func flusher(for eventLoop: any EventLoop) -> LoopFlusher {
        self.flushers.withLock { flushers in
            if let flusher = flushers[ObjectIdentifier(eventLoop)] { return flusher }
            let flusher = LoopFlusher(eventLoop: eventLoop, interval: self.interval)
            flushers[ObjectIdentifier(eventLoop)] = flusher
            return flusher
        }
    }
}
