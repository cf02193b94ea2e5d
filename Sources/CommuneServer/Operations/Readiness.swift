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
    /// The store's health check, one at a time however many probes ask.
    private let ping: SharedPing
    private let shutdownDelay: Duration
    private let logger: Logger
    private let shuttingDown = Atomic<Bool>(false)
    /// The last check's verdict, so that a failing store is logged when it starts and stops failing, not per probe.
    private let lastFailed = Atomic<Bool>(false)

    init(store: any StoreHealthCheck, timeout: Duration, shutdownDelay: Duration, logger: Logger) {
        self.ping = SharedPing(store: store, timeout: timeout)
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
        let failure = await self.ping.verdict()
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

    /// The store's ping, shared: the checks that arrive while one runs wait for its verdict instead of each pinging
    /// the store (a hung store would otherwise hold one ping per probe for as long as it hangs).
    ///
    /// A round of checks waits at most `timeout` from the first of them; when that passes first they are answered
    /// "did not answer", and the ping is not started again while it still runs: later rounds wait for the same one.
    /// So a store is pinged by at most one task at a time, whatever the number of probes.
    private final class SharedPing: Sendable {
        private let store: any StoreHealthCheck
        private let timeout: Duration

        private struct State {
            /// Whether the store's ping is running (it may outlive the round that started it).
            var pinging = false
            /// The checks waiting for a verdict, and the timer that answers them when the ping takes too long.
            var waiters: [CheckedContinuation<Failure?, Never>] = []
            var timer: Task<Void, Never>?
            /// Which round the timer belongs to, so that a late timer never answers the next round early.
            var round = 0
        }

        private let state = Mutex(State())

        init(store: any StoreHealthCheck, timeout: Duration) {
            self.store = store
            self.timeout = timeout
        }

        /// The verdict of the running ping, or of a new one; a failure if none comes within the timeout.
        func verdict() async -> Failure? {
            await withCheckedContinuation { continuation in
                let (startPing, startTimer, round) = self.state.withLock { state in
                    state.waiters.append(continuation)
                    let startPing = !state.pinging
                    state.pinging = true
                    let startTimer = state.waiters.count == 1
                    if startTimer { state.round += 1 }
                    return (startPing, startTimer, state.round)
                }
                if startTimer {
                    let timer = Task {
                        try? await Task.sleep(for: self.timeout)
                        guard !Task.isCancelled else { return }
                        self.answer(
                            Failure(reason: "the store did not answer within \(self.timeout)", detail: "no answer within \(self.timeout)"),
                            round: round
                        )
                    }
                    self.state.withLock { state in
                        if state.round == round, !state.waiters.isEmpty { state.timer = timer } else { timer.cancel() }
                    }
                }
                if startPing {
                    Task {
                        var verdict: Failure?
                        do {
                            try await self.store.ping()
                        } catch {
                            verdict = Failure(reason: "the store failed a read", detail: "\(error)")
                        }
                        self.state.withLock { $0.pinging = false }
                        self.answer(verdict, round: nil)
                    }
                }
            }
        }

        /// Answers the waiting checks (of `round`, when a timer answers) with `verdict`.
        private func answer(_ verdict: Failure?, round: Int?) {
            let (waiters, timer) = self.state.withLock { state -> ([CheckedContinuation<Failure?, Never>], Task<Void, Never>?) in
                guard round == nil || round == state.round else { return ([], nil) }
                defer {
                    state.waiters = []
                    state.timer = nil
                }
                return (state.waiters, state.timer)
            }
            timer?.cancel()
            for waiter in waiters { waiter.resume(returning: verdict) }
        }
    }
}
