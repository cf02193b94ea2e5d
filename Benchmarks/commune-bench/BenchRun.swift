import CommuneProtocol
import Histogram
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// One run of the load generator: opens the connections, logs them in, sends, and gathers the figures.
///
/// Everything happens on one event loop (the generator is pinned to one core, so more threads would not help)
/// and this object is touched only there; that is why it is `@unchecked Sendable` and holds no lock. Sessions
/// report to it by direct calls on that loop. Phases: connect, register and log in (at most `setupConcurrency`
/// connections at once) → settle, read the server's memory → send and measure (fan-out or ingest) → history pages → done.
final class BenchRun: @unchecked Sendable {
    let config: BenchConfiguration
    let loop: any EventLoop
    private let finished: EventLoopPromise<BenchReport>
    private var report: BenchReport
    private var sessions: [(any BenchSession)?]
    private var failed = false

    // Setup.
    private var setupStart: UInt64 = 0
    private var nextToConnect = 0
    private var connecting = 0
    private var ready = 0
    private var loggedIn = 0
    private var loginStart: UInt64 = 0
    private var loginCPUAtStart: Double?
    private var pumping = false
    private var setupTimeout: Scheduled<Void>?
    private var progress: RepeatedTask?

    // Measured phase.
    private enum Phase { case setup, measuring, history, done }
    private var phase = Phase.setup
    private var filling = false
    private var windowOnAcks = false
    private var senderCount = 0
    private var messagesPerSender = 0
    private var tracker = 0
    private var sent: [Int] = []
    private var inFlight: [Int] = []
    private var nextSender = 0
    private var totalToSend = 0
    private var totalSent = 0
    private var sendingStopped = false
    private var measureStart: UInt64 = 0
    private var lastDelivery: UInt64 = 0
    private var lastAck: UInt64 = 0
    private var cpuAtStart: Double?
    private var postgresCPUAtStart: [Int32: Double]?
    private var ticker: RepeatedTask?
    private var drainTimer: Scheduled<Void>?
    private var latency = LatencySummary.makeHistogram()
    private var ackLatency = LatencySummary.makeHistogram()

    // History.
    private var historyTotal: Int64 = 0
    private var historyQueue: [(depth: Int, before: Int64?)] = []
    private var historyCurrent: (depth: Int, before: Int64?)?
    private var historyByDepth: [Int: (offset: Histogram<UInt64>, before: Histogram<UInt64>)] = [:]
    private var historyAll = LatencySummary.makeHistogram()
    private var historyProbeStep = 0

    init(config: BenchConfiguration, loop: any EventLoop) {
        self.config = config
        self.loop = loop
        self.finished = loop.makePromise(of: BenchReport.self)
        self.report = BenchReport(configuration: config)
        self.sessions = Array(repeating: nil, count: config.clients)
    }

    /// Starts the run; the future completes with the report (or fails with the reason setup could not finish).
    func start() -> EventLoopFuture<BenchReport> {
        self.loop.execute {
            if let pid = self.config.serverPID {
                self.report.serverRSSBaselineKiB = ProcessStats.read(pid: pid)?.residentKiB
            }
            self.setupStart = Monotonic.nanoseconds()
            self.setupTimeout = self.loop.scheduleTask(in: .milliseconds(Int64(self.config.setupTimeout * 1000))) {
                self.abort("setup did not finish within \(Int(self.config.setupTimeout)) s: \(self.ready) of "
                           + "\(self.config.clients) connected, \(self.loggedIn) logged in")
            }
            if self.config.progressSeconds > 0 {
                let every = TimeAmount.milliseconds(Int64(self.config.progressSeconds * 1000))
                self.progress = self.loop.scheduleRepeatedTask(initialDelay: every, delay: every) { _ in
                    self.printProgress()
                }
            }
            self.connectMore()
        }
        return self.finished.futureResult
    }

    private func abort(_ reason: String) {
        guard !self.failed, self.phase != .done else { return }
        self.failed = true
        var reason = reason
        if self.phase == .setup, let pid = self.config.serverPID, let stats = ProcessStats.read(pid: pid) {
            // Still a figure: the server's memory with the connections that did get that far.
            let base = self.report.serverRSSBaselineKiB ?? stats.residentKiB
            let open = self.ready
            reason += "; server RSS \(stats.residentKiB) KiB (\(base) KiB at start) with \(open) connections open"
            if open > 0 { reason += ", \(BenchReport.format(Double(stats.residentKiB - base) / Double(open))) KiB each" }
        }
        self.phase = .done
        self.ticker?.cancel()
        self.drainTimer?.cancel()
        self.progress?.cancel()
        self.finished.fail(BenchFailure(reason))
    }

    // MARK: - Connecting and logging in

    /// One line on standard error: how far setup is (a run of 100,000 connections sets up for minutes).
    private func printProgress() {
        guard self.phase == .setup, !self.failed else { return }
        var line = "setup: \(Int(Self.seconds(Monotonic.nanoseconds() - self.setupStart))) s, \(self.ready) of "
            + "\(self.config.clients) registered, \(self.loggedIn) logged in"
        if let pid = self.config.serverPID, let stats = ProcessStats.read(pid: pid) { line += "; server RSS \(stats.residentKiB) KiB" }
        if let own = ProcessStats.read(pid: getpid()) { line += "; generator RSS \(own.residentKiB) KiB" }
        CommuneBench.writeError(line)
    }

    private func connectMore() {
        guard !self.pumping else { return }
        self.pumping = true
        defer { self.pumping = false }
        while !self.failed && self.connecting < self.config.setupConcurrency && self.nextToConnect < self.config.clients {
            let index = self.nextToConnect
            self.nextToConnect += 1
            self.connecting += 1
            self.open(index)
        }
    }

    private func open(_ index: Int) {
        let session: any BenchSession
        switch self.config.wireProtocol {
        case .commune: session = CommuneSession(index: index, run: self)
        case .bare: session = BareSession(index: index, run: self)
        case .xmpp: session = XMPPSession(index: index, run: self)
        }
        self.sessions[index] = session
        let box = UnsafeTransfer(session)
        var bootstrap = ClientBootstrap(group: self.loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SessionHandler(session: box.value))
                }
            }
        do {
            if let source = try self.config.sourceAddress(for: index) {
                #if os(Linux)
                bootstrap = bootstrap.channelOption(Self.bindAddressNoPort, value: 1)
                #endif
                bootstrap = bootstrap.bind(to: source)
            }
        } catch {
            return self.abort("client \(index): no source address: \(error)")
        }
        bootstrap
            .connect(host: self.config.host, port: self.config.port(for: index))
            .whenFailure { error in
                self.abort("client \(index) could not connect to \(self.config.host):\(self.config.port(for: index)): \(error)")
            }
    }

    #if os(Linux)
    /// Linux's IP_BIND_ADDRESS_NO_PORT: the port is picked at connect, for the whole 4-tuple, rather than
    /// reserved by bind for any peer.
    private static let bindAddressNoPort = ChannelOptions.Types.SocketOption(
        level: SocketOptionLevel(IPPROTO_IP), name: SocketOptionName(IP_BIND_ADDRESS_NO_PORT))
    #endif

    /// Connected (and registered, or bound): log in on the same connection at once. Registering everyone first
    /// and logging in afterwards would leave early connections idle past the server's login timeout.
    func sessionReady(_ index: Int) {
        guard self.phase == .setup, !self.failed else { return }
        self.ready += 1
        if self.ready == 1 {
            self.loginStart = Monotonic.nanoseconds()
            self.loginCPUAtStart = self.serversCPU()
        }
        self.sessions[index]?.logIn()
    }

    func sessionLoggedIn(_ index: Int) {
        guard self.phase == .setup, !self.failed else { return }
        self.connecting -= 1
        self.loggedIn += 1
        guard self.loggedIn == self.config.clients else { return self.connectMore() }
        let now = Monotonic.nanoseconds()
        self.setupTimeout?.cancel()
        self.progress?.cancel()
        self.report.loginSeconds = Self.seconds(now - self.loginStart)
        self.report.setupSeconds = Self.seconds(now - self.setupStart)
        if let start = self.loginCPUAtStart, let end = self.serversCPU() { self.report.loginServerCPUSeconds = end - start }
        if let path = self.config.identitiesPath, let identities = self.config.identities, !identities.returning {
            do {
                try identities.save(path: path)
            } catch {
                return self.abort("\(error)")
            }
        }
        self.loop.scheduleTask(in: .milliseconds(Int64(self.config.settleSeconds * 1000))) {
            if let pid = self.config.serverPID { self.report.serverRSSIdleKiB = ProcessStats.read(pid: pid)?.residentKiB }
            self.report.generatorRSSIdleKiB = ProcessStats.read(pid: getpid())?.residentKiB
            self.afterSetup()
        }
    }

    func sessionFailed(_ index: Int, reason: String) {
        if self.phase == .setup {
            self.abort("client \(index): \(reason)")
        } else {
            self.sessionClosed(index, reason: reason)
        }
    }

    func sessionClosed(_ index: Int, reason: String) {
        guard self.phase != .done else { return }
        if self.phase == .setup { return self.abort("client \(index) lost its connection during setup: \(reason)") }
        self.report.disconnects += 1
        if self.report.disconnects <= 3 { self.report.notes.append("client \(index) disconnected: \(reason)") }
    }

    func serverError(_ index: Int, error: CommuneError) {
        self.report.serverErrors += 1
        if self.report.serverErrors <= 3 { self.report.notes.append("client \(index) got \(error)") }
    }

    // MARK: - Sending

    private func afterSetup() {
        switch self.config.mode {
        case .fanout:
            guard self.config.messagesPerSender > 0 else { return self.finish() }
            self.startSending(senders: self.config.senders, perSender: self.config.messagesPerSender, windowOnAcks: false)
        case .ingest:
            self.startSending(senders: self.config.senders, perSender: self.config.messagesPerSender, windowOnAcks: true)
        case .history:
            self.phase = .history
            self.historyProbeStep = 0
            self.sessions[0]?.requestHistory(loadedMessages: 0, before: nil, amount: 1)
        }
    }

    private func startSending(senders: Int, perSender: Int, windowOnAcks: Bool) {
        self.phase = .measuring
        self.windowOnAcks = windowOnAcks
        self.senderCount = senders
        self.messagesPerSender = perSender
        self.totalToSend = senders * perSender
        self.tracker = self.config.clients - 1
        self.sent = Array(repeating: 0, count: senders)
        self.inFlight = Array(repeating: 0, count: senders)
        self.measureStart = Monotonic.nanoseconds()
        self.cpuAtStart = self.serversCPU()
        if let pid = self.config.postgresPID { self.postgresCPUAtStart = ProcessStats.treeCPU(root: pid) }
        let budget = self.config.duration + self.config.drainSeconds
        self.drainTimer = self.loop.scheduleTask(in: .milliseconds(Int64(budget * 1000))) {
            self.report.notes.append("stopped at the duration cap (\(Int(budget)) s)")
            self.finishMeasuring()
        }
        if self.config.rate > 0 && !self.filling {
            self.ticker = self.loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(1)) { _ in
                self.paceTick()
            }
        } else {
            for sender in 0..<senders { self.fill(sender) }
        }
    }

    private var sendDeadlinePassed: Bool {
        Self.seconds(Monotonic.nanoseconds() - self.measureStart) > self.config.duration
    }

    private func paceTick() {
        guard self.phase == .measuring, !self.sendingStopped else { return }
        let elapsed = Self.seconds(Monotonic.nanoseconds() - self.measureStart)
        let due = min(self.totalToSend, Int(elapsed * self.config.rate) + 1)
        if elapsed > self.config.duration { return self.stopSending() }
        // Open loop, but not without bound: a server that falls far behind ends the run instead of queueing forever.
        let outstanding = self.totalSent * self.config.receiversPerMessage - self.report.deliveries
        if outstanding > 2_000_000 {
            self.report.notes.append("the server fell behind by \(outstanding) deliveries; stopped sending")
            return self.stopSending()
        }
        while self.totalSent < due {
            var sender = self.nextSender
            var tries = 0
            while self.sent[sender] >= self.messagesPerSender && tries < self.senderCount {
                sender = (sender + 1) % self.senderCount
                tries += 1
            }
            guard tries < self.senderCount else { break }
            self.nextSender = (sender + 1) % self.senderCount
            self.sendOne(sender)
        }
    }

    /// Unpaced: tops the sender's window up.
    private func fill(_ sender: Int) {
        guard self.phase == .measuring, !self.sendingStopped else { return }
        if self.sendDeadlinePassed { return self.stopSending() }
        while self.inFlight[sender] < self.config.window && self.sent[sender] < self.messagesPerSender {
            self.sendOne(sender)
        }
    }

    private func sendOne(_ sender: Int) {
        let now = Monotonic.nanoseconds()
        let text = BenchMessage.text(sendNanos: now, sender: sender, size: self.config.messageSize)
        self.sent[sender] += 1
        self.inFlight[sender] += 1
        self.totalSent += 1
        self.sessions[sender]?.send(text: text)
        if self.totalSent == self.totalToSend { self.stopSending() }
    }

    private func stopSending() {
        guard !self.sendingStopped else { return }
        self.sendingStopped = true
        self.ticker?.cancel()
        self.drainTimer?.cancel()
        self.drainTimer = self.loop.scheduleTask(in: .milliseconds(Int64(self.config.drainSeconds * 1000))) {
            self.report.notes.append("gave up waiting \(Int(self.config.drainSeconds)) s for the last deliveries")
            self.finishMeasuring()
        }
        self.checkComplete()
    }

    func delivered(sendNanos: UInt64, sender: Int, receiver: Int) {
        guard self.phase == .measuring, sender < self.senderCount else { return }
        let now = Monotonic.nanoseconds()
        self.latency.record(max(1, (now &- sendNanos) / 1000))
        self.report.deliveries += 1
        self.lastDelivery = now
        if !self.windowOnAcks && receiver == self.tracker {
            self.inFlight[sender] -= 1
            if self.config.rate <= 0 { self.fill(sender) }
        }
        if self.sendingStopped { self.checkComplete() }
    }

    func acknowledged(sender: Int, latencyNanos: UInt64) {
        guard self.phase == .measuring, sender < self.senderCount else { return }
        self.ackLatency.record(max(1, latencyNanos / 1000))
        self.report.acknowledged += 1
        self.lastAck = Monotonic.nanoseconds()
        if self.windowOnAcks {
            self.inFlight[sender] -= 1
            if self.config.rate <= 0 || self.filling { self.fill(sender) }
        }
        if self.sendingStopped { self.checkComplete() }
    }

    private func checkComplete() {
        guard self.sendingStopped, self.phase == .measuring else { return }
        let deliveriesDone = self.report.deliveries >= self.totalSent * self.config.receiversPerMessage
        let acksDone = self.config.wireProtocol != .commune || self.report.acknowledged >= self.totalSent
        if (deliveriesDone || self.filling) && acksDone { self.finishMeasuring() }
    }

    private func finishMeasuring() {
        guard self.phase == .measuring else { return }
        self.ticker?.cancel()
        self.drainTimer?.cancel()
        self.sendingStopped = true
        var report = self.report
        report.messagesSent = self.totalSent
        report.expectedDeliveries = self.totalSent * self.config.receiversPerMessage
        report.complete =
            report.deliveries >= report.expectedDeliveries
            && (self.config.wireProtocol != .commune || report.acknowledged >= self.totalSent)
        if self.lastDelivery > self.measureStart { report.deliverySeconds = Self.seconds(self.lastDelivery - self.measureStart) }
        if self.lastAck > self.measureStart { report.ackSeconds = Self.seconds(self.lastAck - self.measureStart) }
        if self.latency.totalCount > 0 { report.latency = LatencySummary(self.latency) }
        if self.ackLatency.totalCount > 0 { report.ackLatency = LatencySummary(self.ackLatency) }
        if let pid = self.config.serverPID, let stats = ProcessStats.read(pid: pid) {
            report.serverRSSEndKiB = stats.residentKiB
        }
        if let start = self.cpuAtStart, let end = self.serversCPU() { report.serverCPUSeconds = end - start }
        if let pid = self.config.postgresPID, let start = self.postgresCPUAtStart {
            report.postgresCPUSeconds = ProcessStats.cpuBetween(start, ProcessStats.treeCPU(root: pid))
        }
        self.report = report
        if self.filling {
            self.filling = false
            self.phase = .history
            self.historyProbeStep = 0
            self.sessions[0]?.requestHistory(loadedMessages: 0, before: nil, amount: 1)
        } else {
            self.finish()
        }
    }

    /// The CPU time of the server (of every node, on a cluster), in seconds.
    private func serversCPU() -> Double? {
        guard let pid = self.config.serverPID, var total = ProcessStats.read(pid: pid)?.cpuSeconds else { return nil }
        for other in self.config.otherServerPIDs {
            guard let seconds = ProcessStats.read(pid: other)?.cpuSeconds else { return nil }
            total += seconds
        }
        return total
    }

    // MARK: - History

    func historyPage(latencyNanos: UInt64, count: Int, newestID: Int64?) {
        guard self.phase == .history else { return }
        if self.historyProbeStep == 0 {
            // The newest message's id is how many the channel holds (ids are 1, 2, 3, … without gaps).
            self.historyTotal = newestID ?? 0
            self.historyProbeStep = 1
            let missing = self.config.fillTo - Int(self.historyTotal)
            if missing > 0 {
                let senders = self.config.senders
                self.filling = true
                self.report.notes.append("filled the channel with \(missing) messages from \(senders) senders first")
                return self.startSending(senders: senders, perSender: (missing + senders - 1) / senders, windowOnAcks: true)
            }
            self.report.historyMessages = self.historyTotal
            let size = Int64(self.config.historyPageSize)
            for depth in self.config.historyDepths where Int64(depth) + size <= self.historyTotal {
                for _ in 0..<self.config.historyPagesPerDepth {
                    self.historyQueue.append((depth, nil))
                    self.historyQueue.append((depth, self.historyTotal + 1 - Int64(depth)))
                }
            }
            if self.historyQueue.isEmpty {
                self.report.notes.append("the channel holds \(self.historyTotal) messages: too few for any page depth")
                return self.finish()
            }
            self.historyQueue.reverse()
            return self.nextHistoryPage()
        }
        guard let current = self.historyCurrent else { return }
        let micros = max(1, latencyNanos / 1000)
        var entry = self.historyByDepth[current.depth]
            ?? (LatencySummary.makeHistogram(), LatencySummary.makeHistogram())
        if current.before == nil { entry.offset.record(micros) } else { entry.before.record(micros) }
        self.historyByDepth[current.depth] = entry
        self.historyAll.record(micros)
        if count != self.config.historyPageSize && self.report.notes.count < 8 {
            self.report.notes.append("a page at depth \(current.depth) held \(count) messages, not \(self.config.historyPageSize)")
        }
        self.nextHistoryPage()
    }

    private func nextHistoryPage() {
        guard let next = self.historyQueue.popLast() else {
            self.report.history = self.historyByDepth.keys.sorted().map { depth in
                let entry = self.historyByDepth[depth]!
                return BenchReport.HistoryDepth(
                    depth: depth, byOffset: LatencySummary(entry.offset),
                    byBefore: entry.before.totalCount > 0 ? LatencySummary(entry.before) : nil)
            }
            self.report.historyAll = LatencySummary(self.historyAll)
            return self.finish()
        }
        self.historyCurrent = next
        self.sessions[0]?.requestHistory(
            loadedMessages: next.before == nil ? next.depth : 0, before: next.before, amount: self.config.historyPageSize)
    }

    // MARK: - End

    private func finish() {
        guard self.phase != .done, !self.failed else { return }
        self.phase = .done
        self.finished.succeed(self.report)
    }

    static func seconds(_ nanos: UInt64) -> Double { Double(nanos) / 1e9 }
}

/// Why a run could not produce figures.
struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Carries a loop-confined value into a `@Sendable` closure that runs on the same loop.
struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
