import CommuneCore
import Logging
import ServiceLifecycle
import Synchronization

/// Whether this node should be given members (`GET /readyz`): its store answers a trivial read in time, and it is
/// not shutting down.
///
/// A service of its own, listed last so that a graceful shutdown reaches it first: from then on readiness answers
/// "shutting down" while the other services still run, for ``ServerConfiguration/shutdownDelay`` and then for as
/// long as they take to stop, so that a load balancer stops sending new clients before connections are closed.
final class Readiness: Service, Sendable {
    private let store: any StoreHealthCheck
    private let timeout: Duration
    private let shutdownDelay: Duration
    private let logger: Logger
    private let shuttingDown = Atomic<Bool>(false)
    /// The last check's verdict, so that a failing store is logged when it starts and stops failing, not per probe.
    private let lastFailed = Atomic<Bool>(false)

    init(store: any StoreHealthCheck, timeout: Duration, shutdownDelay: Duration, logger: Logger) {
        self.store = store
        self.timeout = timeout
        self.shutdownDelay = shutdownDelay
        self.logger = logger
    }

    func run() async {
        // Returns on graceful shutdown, or throws when the task is cancelled: either way the server is stopping.
        try? await gracefulShutdown()
        self.shuttingDown.store(true, ordering: .relaxed)
        guard self.shutdownDelay > .zero else { return }
        self.logger.info("Shutting down: /readyz answers 503 for \(self.shutdownDelay) before connections are closed")
        try? await Task.sleep(for: self.shutdownDelay)
    }

    /// `nil` when ready, or why not, in a few words fit for anyone who can reach `/readyz` (details go to the log).
    func check() async -> String? {
        if self.shuttingDown.load(ordering: .relaxed) { return "shutting down" }
        let failure = await Self.ping(self.store, within: self.timeout)
        let failedBefore = self.lastFailed.exchange(failure != nil, ordering: .relaxed)
        if let failure, !failedBefore {
            self.logger.error("Not ready: the store's health check failed: \(failure.detail)")
        } else if failure == nil, failedBefore {
            self.logger.notice("Ready again: the store answers")
        }
        return failure?.reason
    }

    private struct Failure: Sendable {
        var reason: String
        var detail: String
    }

    /// Pings `store`, giving up after `timeout` without waiting for the ping (a hung store must not hang the probe).
    private static func ping(_ store: any StoreHealthCheck, within timeout: Duration) async -> Failure? {
        let verdict = FirstVerdict()
        return await withCheckedContinuation { continuation in
            verdict.set(continuation)
            let timer = Task {
                try? await Task.sleep(for: timeout)
                verdict.give(Failure(reason: "the store did not answer within \(timeout)", detail: "no answer within \(timeout)"))
            }
            Task {
                do {
                    try await store.ping()
                    verdict.give(nil)
                } catch {
                    verdict.give(Failure(reason: "the store failed a read", detail: "\(error)"))
                }
                timer.cancel()
            }
        }
    }

    /// Resumes its continuation once, with whichever verdict comes first.
    private final class FirstVerdict: Sendable {
        private let continuation = Mutex<CheckedContinuation<Failure?, Never>?>(nil)

        func set(_ continuation: CheckedContinuation<Failure?, Never>) {
            self.continuation.withLock { $0 = continuation }
        }

        func give(_ verdict: Failure?) {
            self.continuation.withLock { $0.take() }?.resume(returning: verdict)
        }
    }
}
