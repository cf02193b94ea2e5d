import CommuneCore
import CoreMetrics
import Prometheus

/// This server's metrics, in a Prometheus registry it owns, exported as text at `GET /metrics`.
///
/// The registry is the server's, not swift-metrics' global one, so several servers in one process (the tests) never
/// mix their counts. `commune serve` also bootstraps swift-metrics with it (``bootstrapMetricsSystem()``), so whatever
/// a library reports through swift-metrics lands beside these. Labels are bounded: the login result is one of three
/// words; nothing is labelled by member, channel or connection.
///
/// Counted where it costs least: deliveries once per flush of a connection, stored messages and commit durations
/// once per group commit (``StoreMetrics``), and the two gauges read when `/metrics` is asked for.
public final class ServerMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    /// What the store reports (give it to a store opened outside the server).
    public let store: StoreMetrics
    let fanout: FanoutMetrics
    private let factory: PrometheusMetricsFactory
    private let connections: Meter
    private let waitingBytes: Meter
    private let loginsSucceeded: CoreMetrics.Counter
    private let loginsFailed: CoreMetrics.Counter
    private let loginsRefused: CoreMetrics.Counter
    /// With several nodes: from a record's append on any node to this node carrying it out.
    let clusterLag: CoreMetrics.Timer

    /// How a login attempt ended, the `result` label of `commune_logins_total`.
    enum LoginResult {
        /// The challenge was solved: the connection is logged in.
        case success
        /// A wrong answer to the challenge (`challenge_failed`).
        case failed
        /// Refused before or instead of a challenge: unknown or banned member, expired or unexpected challenge.
        case refused
    }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        let factory = PrometheusMetricsFactory(registry: registry)
        self.factory = factory
        func counter(_ name: String, _ labels: [(String, String)] = [], help: String) -> CoreMetrics.Counter {
            let handler = registry.makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels)
            return CoreMetrics.Counter(label: name, dimensions: labels, handler: handler, factory: factory)
        }
        func gauge(_ name: String, help: String) -> Meter {
            let handler = registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help))
            return Meter(label: name, dimensions: [], handler: handler, factory: factory)
        }
        self.connections = gauge("commune_connections", help: "WebSocket connections logged in to this node.")
        self.waitingBytes = gauge(
            "commune_fanout_queue_bytes",
            help: "Bytes waiting in this node's outbound queues: queued for members' sockets or written and not yet taken by the kernel."
        )
        let logins = "commune_logins_total"
        let loginsHelp = "Login attempts by result: success, failed (wrong challenge answer), refused (unknown or banned member, expired challenge)."
        self.loginsSucceeded = counter(logins, [("result", "success")], help: loginsHelp)
        self.loginsFailed = counter(logins, [("result", "failed")], help: loginsHelp)
        self.loginsRefused = counter(logins, [("result", "refused")], help: loginsHelp)
        self.fanout = FanoutMetrics(
            deliveries: counter("commune_deliveries_total", help: "Updates written to members' sockets (one per recipient per update).")
        )
        self.clusterLag = CoreMetrics.Timer(
            label: "commune_cluster_lag_seconds", dimensions: [],
            handler: registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    metricName: "commune_cluster_lag_seconds", unitName: "",
                    helpText: "With several nodes: from the start of a record's append to the cluster stream (on any node) to this node carrying it out."
                ),
                buckets: Self.commitBuckets
            ),
            factory: factory
        )
        let commitName = StoreMetrics.commitDurationName
        self.store = StoreMetrics(
            messagesStored: counter(StoreMetrics.messagesStoredName, help: "Messages the store committed (a resent message it already had is not counted)."),
            commitDuration: CoreMetrics.Timer(
                label: commitName, dimensions: [],
                handler: registry.makeDurationHistogram(
                    descriptor: MetricNameDescriptor(
                        metricName: commitName, unitName: "", helpText: "How long each group commit of messages took, waiting for the store's writer included."
                    ),
                    buckets: Self.commitBuckets
                ),
                factory: factory
            )
        )
    }

    /// From a tenth of a millisecond (SQLite in WAL, synchronous NORMAL) to a second (a disk in trouble).
    static let commitBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2_500), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
    ]

    func login(_ result: LoginResult) {
        switch result {
        case .success: self.loginsSucceeded.increment()
        case .failed: self.loginsFailed.increment()
        case .refused: self.loginsRefused.increment()
        }
    }

    /// The Prometheus text exposition, with the gauges read now (`connections`: logged-in connections).
    func exposition(connections: Int) -> [UInt8] {
        self.connections.set(connections)
        self.waitingBytes.set(self.fanout.waitingBytes)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(4_096)
        self.registry.emit(into: &buffer)
        return buffer
    }

    /// Makes swift-metrics' global factory this registry's, so that libraries reporting through swift-metrics appear
    /// at `/metrics` too. Once per process (swift-metrics allows one bootstrap): `commune serve` calls it.
    public func bootstrapMetricsSystem() {
        MetricsSystem.bootstrap(self.factory)
    }
}
