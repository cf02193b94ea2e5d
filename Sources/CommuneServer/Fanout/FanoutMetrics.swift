import CoreMetrics
import Synchronization

/// What the fan-out counts for `/metrics`, kept as cheaply as the hot path allows: one relaxed atomic add per queued
/// frame for the bytes waiting, and one counter add per flush of a connection (not per update) for the deliveries.
final class FanoutMetrics: Sendable {
    /// Bytes waiting in every connection's ``Outbox``: queued there, or written and not yet taken by the kernel.
    /// The sum of the outboxes' own counts, which each keeps in step.
    private let waiting = Atomic<Int>(0)
    /// Updates handed to members' sockets.
    private let deliveries: Counter

    init(deliveries: Counter) {
        self.deliveries = deliveries
    }

    /// Counts nothing anyone reads (outboxes made outside a server, and tests of the fan-out alone).
    static let disabled = FanoutMetrics(
        deliveries: Counter(label: "", dimensions: [], handler: NOOPMetricsHandler.instance, factory: NOOPMetricsHandler.instance)
    )

    func queued(bytes: Int) {
        self.waiting.add(bytes, ordering: .relaxed)
    }

    func released(bytes: Int) {
        self.waiting.subtract(bytes, ordering: .relaxed)
    }

    /// `count` updates were handed to a socket.
    func delivered(_ count: Int) {
        self.deliveries.increment(by: count)
    }

    var waitingBytes: Int { self.waiting.load(ordering: .relaxed) }
}
