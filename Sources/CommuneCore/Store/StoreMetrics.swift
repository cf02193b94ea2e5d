import CoreMetrics

/// What a store reports about its message commits, for the server's `/metrics`: how many messages it stored and how
/// long each group commit took.
///
/// Recorded once per commit (a batch of messages), never per message or per delivery. The server makes one from its
/// own metrics registry and gives it to the store it opens; ``disabled`` records nothing (tools and tests).
public struct StoreMetrics: Sendable {
    /// Prometheus names, shared by every store so that dashboards need not know which one runs.
    public static let messagesStoredName = "commune_messages_stored_total"
    public static let commitDurationName = "commune_store_commit_seconds"

    private let messagesStored: Counter
    private let commitDuration: Timer

    public init(messagesStored: Counter, commitDuration: Timer) {
        self.messagesStored = messagesStored
        self.commitDuration = commitDuration
    }

    /// Records nothing.
    public static let disabled = StoreMetrics(
        messagesStored: Counter(label: messagesStoredName, dimensions: [], handler: NOOPMetricsHandler.instance, factory: NOOPMetricsHandler.instance),
        commitDuration: Timer(label: commitDurationName, dimensions: [], handler: NOOPMetricsHandler.instance, factory: NOOPMetricsHandler.instance)
    )

    /// Runs one commit (`commit` writes a batch in one transaction) and records how long it took and, when it
    /// succeeded, how many new messages it stored (`newMessages` counts them in its result; a resent message the
    /// store already had is not new). A failed commit records neither.
    public func measuringCommit<Result>(
        _ commit: () async throws -> Result, newMessages: (Result) -> Int
    ) async throws -> Result {
        let start = ContinuousClock.now
        let result = try await commit()
        let elapsed = ContinuousClock.now - start
        self.commitDuration.recordNanoseconds(Int64(elapsed.components.seconds) * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        self.messagesStored.increment(by: newMessages(result))
        return result
    }
}
