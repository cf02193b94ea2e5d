import CommuneCore
import CommuneProtocol
import CoreMetrics
import Logging
import ServiceLifecycle
import Synchronization

/// This node's side of a cluster: it appends what this node decides to the shared ``ClusterStream`` (one writer,
/// in order, many records per transaction), reads back every node's records in position order and hands each to
/// the ``ConnectionHub``, says it is alive, and forgets old records.
///
/// Reading is woken by the stream's notifications, which carry the records themselves when they fit (applied as
/// they come, in order, without reading them back), by a poll every second (a notification missed while the
/// listening connection reconnected costs at most that), and after each append of its own while not listening.
final class ClusterLink: Service, Sendable {
    let stream: any ClusterStream
    /// This node's name in the stream: new at every start.
    let node: String
    let logger: Logger
    /// Where reading started: the stream's identity and the position this node's log starts at.
    let snapshot: ClusterSnapshot
    /// How long a node may stay silent before the others take its members offline.
    static let nodeTimeout: Duration = .seconds(10)
    static let heartbeatPeriod: Duration = .seconds(2)
    static let pollPeriod: Duration = .seconds(1)
    /// Records kept for nodes that read behind, and for resumes.
    static let keptRecords: Int64 = 100_000
    static let batchLimit = 1_000

    private struct Outgoing {
        var queue: [ClusterRecord] = []
        /// Records ever queued and ever committed: a waiter waits for `committed` to reach its ticket.
        var queued = 0
        var committed = 0
        var waiters: [(ticket: Int, signal: OneShotSignal)] = []
        var stopped = false
    }

    private let outgoing = Mutex(Outgoing())
    private let receiver = Mutex<(@Sendable ([ClusterRecord]) async -> Void)?>(nil)
    private let writeWake: AsyncStream<Void>.Continuation
    private let writeWakes: AsyncStream<Void>
    private let readWake: AsyncStream<Void>.Continuation
    private let readWakes: AsyncStream<Void>
    /// The newest position read and handed on.
    private let applied: Atomic<Int64>

    /// What woke the reader: records notifications carried, in commit order, and whether the table must be read
    /// (a notification without its records, a poll, an append while not listening).
    private struct Inbox {
        var records: [ClusterRecord] = []
        var readTable = false
    }

    private let inbox = Mutex(Inbox())
    /// Whether the stream's notifications are being listened to (this node's own appends come back through them).
    private let listening = Atomic(false)
    /// The most records notifications may leave waiting for the reader; past it, the table is read instead.
    static let inboxLimit = 10_000

    /// How long records take from their append (on any node) to being carried out here.
    private let lag: CoreMetrics.Timer?

    init(stream: any ClusterStream, node: String, snapshot: ClusterSnapshot, lag: CoreMetrics.Timer? = nil, logger: Logger) {
        self.stream = stream
        self.lag = lag
        self.snapshot = snapshot
        self.node = node
        self.logger = logger
        (self.writeWakes, self.writeWake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        (self.readWakes, self.readWake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        self.applied = Atomic(snapshot.position)
    }

    /// Opens the cluster's stream: reads where it stands (for the hub's log and the community's presence).
    /// The node says it is alive first: the others take the presence of a node they do not know for a leftover.
    static func open(_ stream: any ClusterStream, lag: CoreMetrics.Timer? = nil, logger: Logger) async throws -> ClusterLink {
        var generator = SystemRandomNumberGenerator()
        let node = String(generator.next(upperBound: UInt64(1) << 60), radix: 36)
        try await stream.heartbeat(node: node, timeout: Self.nodeTimeout)
        return ClusterLink(stream: stream, node: node, snapshot: try await stream.snapshot(), lag: lag, logger: logger)
    }

    /// Gives every record read, in order, to `receive` (the hub), as many at a time as one read returned.
    func attach(_ receive: @escaping @Sendable ([ClusterRecord]) async -> Void) {
        self.receiver.withLock { $0 = receive }
    }

    /// Queues records to append, in order after everything queued before.
    func send(_ records: [ClusterRecord]) {
        _ = self.queue(records)
    }

    /// Queues records (in order, now) and returns a signal that opens once they (and everything queued before) are
    /// committed, or the link stopped.
    func sendSignalling(_ records: [ClusterRecord]) -> OneShotSignal {
        let signal = OneShotSignal()
        let ticket = self.queue(records)
        let done = self.outgoing.withLock { outgoing in
            if outgoing.committed >= ticket || outgoing.stopped { return true }
            outgoing.waiters.append((ticket, signal))
            return false
        }
        if done { signal.open() }
        return signal
    }

    /// How long a message's send waits for this node's earlier records to commit (``queuedCommitted(within:)``)
    /// before it fails: the writer retries for as long as the database cannot be reached, and a send that waited
    /// for it would hang. Well under the clients' request timeouts (20 s in the web client, 30 s in CommuneClient and
    /// the CLI), so the member hears that the message was not sent, and may send it again, rather than a timeout.
    static let queuedCommitLimit: Duration = .seconds(5)

    /// Waits until everything queued so far is committed (at once when nothing is waiting), or the link stopped:
    /// a record another transaction appends (a message's, ``StreamPublisher``) then comes after them. `false` when
    /// they were still not committed after `limit` (the database unreachable): the caller must not append then.
    func queuedCommitted(within limit: Duration = ClusterLink.queuedCommitLimit) async -> Bool {
        let signal = OneShotSignal()
        let ticket = self.outgoing.withLock { outgoing -> Int? in
            guard outgoing.committed < outgoing.queued, !outgoing.stopped else { return nil }
            outgoing.waiters.append((outgoing.queued, signal))
            return outgoing.queued
        }
        guard let ticket else { return true }
        let timer = Task {
            try await Task.sleep(for: limit)
            signal.open()
        }
        await signal.wait()
        timer.cancel()
        return self.outgoing.withLock { outgoing in
            outgoing.waiters.removeAll { $0.signal === signal }
            return outgoing.committed >= ticket || outgoing.stopped
        }
    }

    /// A transaction other than this link's appends (a message's) committed records: read them back now when the
    /// notifications that would bring them are not being listened to.
    func appendedElsewhere() {
        if !self.listening.load(ordering: .relaxed) { self.wakeToRead(records: nil) }
    }

    private func queue(_ records: [ClusterRecord]) -> Int {
        let ticket = self.outgoing.withLock { outgoing in
            outgoing.queue += records
            outgoing.queued += records.count
            return outgoing.queued
        }
        self.writeWake.yield()
        return ticket
    }

    /// Waits (at most `limit`) until this node has read the stream up to `position`: a client resuming here from a
    /// point another node had reached is not told it is ahead of the stream while this node catches up.
    func waitUntilRead(_ position: Int64, within limit: Duration = .seconds(2)) async {
        let deadline = ContinuousClock.now + limit
        while self.applied.load(ordering: .relaxed) < position, ContinuousClock.now < deadline {
            self.wakeToRead(records: nil)
            do { try await Task.sleep(for: .milliseconds(5)) } catch { return }
        }
    }

    /// Waits (briefly) until this node has read everything committed so far: a member registered on another node
    /// a moment ago is known here once it has.
    func catchUp() async {
        do {
            await self.waitUntilRead(try await self.stream.head())
        } catch {
            self.logger.warning("Cluster: reading the stream's head failed: \(error)")
        }
    }

    /// A record of `event` from this node.
    func record(_ event: ClusterEvent) -> ClusterRecord {
        ClusterRecord(origin: self.node, kind: .event(event.body))
    }

    /// A member's first connection to this node opened (`true`) or their last one closed.
    func presence(_ member: UUIDString, online: Bool) -> ClusterRecord {
        ClusterRecord(origin: self.node, kind: .presence(member: member.value, online: online))
    }

    func run() async throws {
        self.logger.info("Cluster: joined as node \(self.node) at position \(self.snapshot.position) of stream \(self.snapshot.streamID)")
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.writeLoop() }
                group.addTask { await self.readLoop() }
                group.addTask { await self.listenLoop() }
                group.addTask { await self.tick(every: Self.pollPeriod) { self.wakeToRead(records: nil) } }
                group.addTask { await self.tick(every: Self.heartbeatPeriod) { await self.heartbeat() } }
            }
        }
        // What is still queued goes out (connections closing as the server stops), then this node says it leaves;
        // in a task of its own, since the service group may have cancelled this one already; bounded, since the
        // database may be what is gone.
        let farewell = Task {
            await self.writeBatches()
            try await self.stream.leave(node: self.node)
        }
        let timeout = Task {
            try await Task.sleep(for: .seconds(5))
            farewell.cancel()
        }
        do {
            try await farewell.value
        } catch {
            self.logger.warning("Cluster: could not say this node leaves (the others will time it out): \(error)")
        }
        timeout.cancel()
        let waiters = self.outgoing.withLock { outgoing in
            outgoing.stopped = true
            defer { outgoing.waiters = [] }
            return outgoing.waiters
        }
        for waiter in waiters { waiter.signal.open() }
    }

    private func tick(every period: Duration, _ body: @Sendable () async -> Void) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: period) } catch { return }
            await body()
        }
    }

    private let prunedAt = Mutex(ContinuousClock.now)

    private func heartbeat() async {
        do {
            try await self.stream.heartbeat(node: self.node, timeout: Self.nodeTimeout)
            let due = self.prunedAt.withLock { last in
                guard ContinuousClock.now - last > .seconds(60) else { return false }
                last = .now
                return true
            }
            if due {
                let gone = try await self.stream.prune(keeping: Self.keptRecords)
                if gone > 0 { self.logger.debug("Cluster: forgot \(gone) old records") }
            }
        } catch {
            self.logger.warning("Cluster: heartbeat failed: \(error)")
        }
    }

    private func writeLoop() async {
        for await _ in self.writeWakes {
            await self.writeBatches()
        }
    }

    /// Appends what is queued, a batch at a time, retrying a batch that failed (the database restarting, say)
    /// until it is written or the task is cancelled.
    ///
    /// Once appends have failed for ``queuedCommitLimit``, whoever waits for records to commit stops waiting (and so
    /// does each newcomer, at the next retry): a request whose change is stored replies rather than hang until the
    /// database is back (its updates go out then, still in order), and a message's send fails
    /// (``queuedCommitted(within:)`` sees its records uncommitted).
    private func writeBatches() async {
        var failingSince: ContinuousClock.Instant?
        while true {
            let batch = self.outgoing.withLock { Array($0.queue.prefix(Self.batchLimit)) }
            guard !batch.isEmpty else { return }
            do {
                try await self.stream.append(batch)
                failingSince = nil
            } catch {
                if Task.isCancelled { return }
                self.logger.error("Cluster: appending \(batch.count) record(s) failed; retrying: \(error)")
                let since = failingSince ?? .now
                failingSince = since
                if ContinuousClock.now - since >= Self.queuedCommitLimit {
                    let released = self.outgoing.withLock { outgoing in
                        defer { outgoing.waiters = [] }
                        return outgoing.waiters
                    }
                    for waiter in released { waiter.signal.open() }
                }
                do { try await Task.sleep(for: .milliseconds(500)) } catch { return }
                continue
            }
            let resumed = self.outgoing.withLock { outgoing in
                outgoing.queue.removeFirst(batch.count)
                outgoing.committed += batch.count
                let committed = outgoing.committed
                let (due, waiting) = (outgoing.waiters.filter { $0.ticket <= committed }, outgoing.waiters.filter { $0.ticket > committed })
                outgoing.waiters = waiting
                return due
            }
            for waiter in resumed { waiter.signal.open() }
            // While listening, the batch comes back with its notifications.
            if !self.listening.load(ordering: .relaxed) { self.wakeToRead(records: nil) }
        }
    }

    /// Wakes the reader: with the records a notification carried, or (`nil`) to read the table.
    private func wakeToRead(records: [ClusterRecord]?) {
        self.inbox.withLock { inbox in
            if let records, inbox.records.count + records.count <= Self.inboxLimit {
                inbox.records += records
            } else {
                inbox.readTable = true
            }
        }
        self.readWake.yield()
    }

    private func readLoop() async {
        for await _ in self.readWakes {
            await self.readNew()
        }
    }

    /// Hands on the records notifications carried that continue from the last one applied, then, when something
    /// asked for it or they do not continue from it, reads and hands on every record after the last one applied.
    private func readNew() async {
        guard let receive = self.receiver.withLock({ $0 }) else { return }
        var (notified, readTable) = self.inbox.withLock { inbox in
            defer { inbox = Inbox() }
            return (inbox.records, inbox.readTable)
        }
        let after = self.applied.load(ordering: .relaxed)
        // Those read already (from the table) are dropped; a hole (a notification missed, or one with the head
        // alone) sends the reader to the table from there.
        notified.removeAll { $0.position <= after }
        var run = 0
        while run < notified.count, notified[run].position == after + 1 + Int64(run) { run += 1 }
        if run < notified.count { readTable = true }
        if run > 0 { await self.hand(Array(notified.prefix(run)), to: receive) }
        guard readTable else { return }
        while !Task.isCancelled {
            let after = self.applied.load(ordering: .relaxed)
            let records: [ClusterRecord]
            do {
                records = try await self.stream.records(after: after, limit: Self.batchLimit)
            } catch {
                if !Task.isCancelled { self.logger.warning("Cluster: reading the stream failed: \(error)") }
                return
            }
            guard !records.isEmpty else { return }
            var expected = after + 1
            for record in records {
                if record.position != expected {
                    self.logger.error(
                        "Cluster: the stream skipped from \(expected - 1) to \(record.position) (records were forgotten before this node read them)"
                    )
                }
                expected = record.position + 1
            }
            await self.hand(records, to: receive)
            if records.count < Self.batchLimit { return }
        }
    }

    /// Hands on `records` (in order, after the last one applied) and records how long they took to get here.
    private func hand(_ records: [ClusterRecord], to receive: @Sendable ([ClusterRecord]) async -> Void) async {
        guard let last = records.last else { return }
        // The whole read at once: the hub takes its lock and wakes each event loop's flusher once per run of
        // updates instead of once per record.
        await receive(records)
        self.applied.store(last.position, ordering: .relaxed)
        if let lag = self.lag {
            let now = UnixTime.nowMilliseconds()
            for record in records {
                if let appendedAt = record.appendedAt { lag.recordMilliseconds(max(0, now - appendedAt)) }
            }
        }
    }

    private func listenLoop() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                try await self.stream.listen { records in
                    if records == nil { self.listening.store(true, ordering: .relaxed) }
                    self.wakeToRead(records: records)
                }
                self.listening.store(false, ordering: .relaxed)
            } catch {
                self.listening.store(false, ordering: .relaxed)
                if Task.isCancelled { return }
                failures += 1
                if failures == 1 || failures % 60 == 0 {
                    self.logger.warning("Cluster: listening for other nodes' records failed (polling meanwhile): \(error)")
                }
            }
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
        }
    }
}
