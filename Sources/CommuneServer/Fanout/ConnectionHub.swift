import CommuneCore
import CommuneProtocol
import Logging
import NIOCore
import NIOWebSocket
import Synchronization

/// The logged-in connections of this server, and the fan-out of updates to them: the one place an ``Effect``'s
/// updates and disconnects are carried out, each update to the connections its ``Audience`` names.
///
/// An update is encoded to JSON and framed once, into one buffer, and that same buffer is queued on every
/// recipient's ``Outbox`` (ByteBuffer is copy-on-write, so recipients share the bytes). The recipients are then
/// written to by their event loop's ``LoopFlusher``, each with one flush.
///
/// Updates to members get consecutive positions in the community's stream (``UpdateLog``), given and queued under
/// one lock, so every connection receives its updates in position order; a login that resumes is queued its
/// missed updates and joins the recipients under the same lock, so nothing falls between the two.
///
/// With several nodes (``cluster``), an update to members, a disconnection and a change to what nodes keep in memory
/// go to the cluster's stream instead; every node, this one included, carries them out when it reads them back
/// (``receive(_:)``), at the stream's position, so positions are the same everywhere. Updates for one connection
/// stay on its node.
final class ConnectionHub: Sendable {
    private struct Entry {
        let member: UUIDString
        let outbox: Outbox
    }

    private struct State {
        var connections: [ConnectionID: Entry] = [:]
        /// Each member's connections here, so that an update for a few members reads only theirs.
        var byMember: [UUIDString: Set<ConnectionID>] = [:]
        var log: UpdateLog
        /// The member counts last sent (``sendMemberCounts()``).
        var countsSent: (total: Int, online: Int)?

        /// The outboxes of the connections in `recipients`, without `excluded`.
        func outboxes(_ recipients: Recipients, excluding excluded: ConnectionID?) -> [Outbox] {
            var found: [Outbox] = []
            func add(_ id: ConnectionID) {
                if id != excluded, let entry = self.connections[id] { found.append(entry.outbox) }
            }
            func addAll(of members: Set<UUIDString>) {
                if members.count <= self.connections.count {
                    for member in members { self.byMember[member]?.forEach(add) }
                } else {
                    for (id, entry) in self.connections where id != excluded && members.contains(entry.member) { found.append(entry.outbox) }
                }
            }
            switch recipients {
            case .connection(let id):
                add(id)
            case .everyone:
                for (id, entry) in self.connections where id != excluded { found.append(entry.outbox) }
            case .members(let members):
                addAll(of: members)
            case .connections(let connections, let members):
                for id in connections { if let entry = self.connections[id], !members.contains(entry.member) { add(id) } }
                addAll(of: members)
            }
            return found
        }
    }

    private let state: Mutex<State>
    private let counter = Atomic<UInt64>(0)
    /// Update ids: a random base for this process plus a counter (unique without a system call per update).
    private let updateIDs = UpdateIDs()

    /// Resolves audiences to members (who holds a permission, who sees a channel).
    private let community: Community
    /// The other nodes, when there are any.
    let cluster: ClusterLink?

    init(community: Community, configuration: ServerConfiguration = ServerConfiguration(), cluster: ClusterLink? = nil) {
        self.community = community
        self.cluster = cluster
        var generator = SystemRandomNumberGenerator()
        let streamID = cluster?.snapshot.streamID ?? UUIDString(high: generator.next(), low: generator.next()).value
        self.state = Mutex(
            State(
                log: UpdateLog(
                    id: streamID, position: cluster?.snapshot.position ?? 0, maxEntries: configuration.resumeWindowUpdates,
                    maxBytes: configuration.resumeWindowBytes
                )
            )
        )
        if let cluster {
            community.startClusterPresence(cluster.snapshot.online)
            community.observeCacheChanges { change in cluster.send([cluster.record(.changed(change))]) }
            cluster.attach { [weak self] records in await self?.receive(records) }
            // A message's `message_live` goes into the stream in the message's own transaction.
            let ids = self.updateIDs
            community.streamPublisher = StreamPublisher(
                record: { update, audience in Self.record(update, to: audience, ids: ids, cluster: cluster) },
                queuedCommitted: { await cluster.queuedCommitted() },
                committed: { cluster.appendedElsewhere() }
            )
        }
    }

    /// A connection's key in the stream (``StreamPoint/connection``): its number, after the node's name in a cluster.
    private func key(_ id: ConnectionID) -> String {
        self.cluster.map { "\($0.node).\(id.rawValue)" } ?? String(id.rawValue)
    }

    func makeConnectionID() -> ConnectionID {
        ConnectionID(self.counter.add(1, ordering: .relaxed).newValue)
    }

    /// A connection's member logged in: `reply` (the `identification_response`) is queued with where this login
    /// joins the stream and, when the client asked to `resume`, the answer and the updates it missed after it;
    /// then the connection receives updates, and leaves the pool of connections not logged in.
    @discardableResult
    func add(
        _ id: ConnectionID, member: UUIDString, outbox: Outbox, reply: Envelope = Envelope(type: .identificationResponse),
        resume: ResumePoint? = nil
    ) -> ResumeOutcome? {
        outbox.admission.loggedIn()
        let encoded = reply.jsonBytes
        var needsDrain = false
        let outcome = self.state.withLock { state -> ResumeOutcome? in
            let stream = StreamPoint(id: state.log.id, position: state.log.position, connection: self.key(id))
            var missed: [ByteBuffer] = []
            var outcome: ResumeOutcome?
            if let resume {
                switch state.log.missed(since: resume, by: member, byteLimit: outbox.limitBytes / 2) {
                case .success(let frames):
                    missed = frames
                    outcome = .resumed(missed: frames.count)
                case .failure(let refusal):
                    outcome = .refetch(reason: refusal.reason)
                }
            }
            let bytes: [UInt8] =
                if let outcome {
                    Envelope.adding(dataFields: ["stream": stream.data, "resume": outcome.data], to: encoded)
                } else {
                    Envelope.adding(dataFields: ["stream": stream.data], to: encoded)
                }
            // The reply is not counted as a delivery; the updates a resume missed are.
            if case .needsDrain = outbox.enqueue(WebSocketTextFrame.make(bytes), isUpdate: false) { needsDrain = true }
            for frame in missed {
                if case .needsDrain = outbox.enqueue(frame) { needsDrain = true }
            }
            state.connections[id] = Entry(member: member, outbox: outbox)
            state.byMember[member, default: []].insert(id)
            // Every login shows the member list's first page until it asks for another.
            self.community.memberList.subscribe(id, to: 0..<self.community.configuration.defaultMemberPage)
            return outcome
        }
        if needsDrain { outbox.flusher.schedule(outbox) }
        return outcome
    }

    func remove(_ id: ConnectionID) {
        self.state.withLock { state in
            guard let entry = state.connections.removeValue(forKey: id) else { return }
            state.byMember[entry.member]?.remove(id)
            if state.byMember[entry.member]?.isEmpty == true { state.byMember[entry.member] = nil }
        }
        self.community.memberList.unsubscribe(id)
    }

    var count: Int { self.state.withLock { $0.connections.count } }

    /// Carries out what a handler decided besides its reply: closes the connections of removed members, then
    /// pushes each update to its audience. With several nodes the updates are queued for the cluster's stream, in
    /// order, and the signal returned opens once they are committed there (the other nodes are then sure to carry
    /// them out): the caller's reply, which says it is done, waits for it.
    func apply(_ effect: Effect) -> OneShotSignal? {
        for disconnect in effect.disconnects {
            self.disconnect(member: disconnect.member, reason: disconnect.reason)
        }
        guard let cluster = self.cluster else {
            for update in effect.updates {
                self.publish(update.result, to: update.audience)
            }
            return nil
        }
        var records = effect.disconnects.map { cluster.record(.disconnect(member: $0.member, reason: $0.reason)) }
        for update in effect.updates {
            if let record = self.clusterRecord(update.result, to: update.audience) { records.append(record) }
        }
        guard !records.isEmpty else { return nil }
        return cluster.sendSignalling(records)
    }

    /// `update` as a record of the cluster's stream, or `nil` when it goes to one connection (sent here and now).
    private func clusterRecord(_ update: FunctionResult, to audience: Audience) -> ClusterRecord? {
        guard let cluster = self.cluster else { return nil }
        if case .connection = audience.scope {
            self.deliver(update, to: audience)
            return nil
        }
        return Self.record(update, to: audience, ids: self.updateIDs, cluster: cluster)
    }

    /// `update` to an audience of members as a record of the cluster's stream from this node.
    private static func record(_ update: FunctionResult, to audience: Audience, ids: UpdateIDs, cluster: ClusterLink) -> ClusterRecord {
        let envelope = String(decoding: Self.encode(update, id: ids.next()), as: UTF8.self)
        return cluster.record(.update(envelope: envelope, scope: audience.scope, excluded: audience.excluded?.rawValue))
    }

    private func encode(_ update: FunctionResult) -> [UInt8] {
        Self.encode(update, id: self.updateIDs.next())
    }

    private static func encode(_ update: FunctionResult, id: String) -> [UInt8] {
        Envelope(type: .update, id: id, logLevel: .debug, logMessage: "\(update.codec) update", data: update.data).jsonBytes
    }

    /// Sends `update` to the logged-in connections in `audience`; an update to members takes the stream's next
    /// position (one meant for a single connection has none and is not kept). With several nodes it goes through
    /// the cluster's stream.
    func publish(_ update: FunctionResult, to audience: Audience) {
        if let cluster = self.cluster {
            if let record = self.clusterRecord(update, to: audience) { cluster.send([record]) }
            return
        }
        self.deliver(update, to: audience)
    }

    /// A member's first connection here opened, or their last one closed: those whose member list shows them hear
    /// whether they are online, and the member's own connections (`audience` may leave one out; with several nodes,
    /// once the cluster's stream says whether that changed anything anywhere). The others hear the counts change
    /// (``sendMemberCounts()``).
    func presenceChanged(_ member: UUIDString, online: Bool, audience: Audience = .community) {
        if let cluster = self.cluster {
            cluster.send([cluster.presence(member, online: online)])
        } else {
            var listing = self.community.listingAudience(of: member)
            listing.excluded = audience.excluded
            self.publish(CommunityFunctions.presenceUpdate(member, online: online), to: listing)
        }
    }

    /// Sends `member_counts` to every connection whose member list does not hold every member, when the counts
    /// changed since the last time or a join, removal or rename moved places of the list (`changed_from`: pages
    /// from there on are to be read again); called by ``MemberCountsTicker`` once a second (less often on a large
    /// server). Not part of the stream: counts are a state, and the next change sends them again.
    func sendMemberCounts() {
        let change = self.community.takeMemberListChange()
        let counts = (total: change.total, online: change.online)
        let covering = self.community.memberList.connections(showingAllOf: counts.total)
        let outboxes = self.state.withLock { state -> [Outbox] in
            guard change.changedFrom != nil || (state.countsSent.map({ $0 != counts }) ?? true) else { return [] }
            state.countsSent = counts
            return state.connections.compactMap { id, entry in covering.contains(id) ? nil : entry.outbox }
        }
        guard !outboxes.isEmpty else { return }
        let update = self.community.memberCountsUpdate(total: counts.total, online: counts.online, changedFrom: change.changedFrom)
        let frame = WebSocketTextFrame.make(self.encode(update))
        var due: [ObjectIdentifier: (flusher: LoopFlusher, outboxes: [Outbox])] = [:]
        for outbox in outboxes {
            guard case .needsDrain = outbox.enqueue(frame) else { continue }
            due[ObjectIdentifier(outbox.flusher), default: (outbox.flusher, [])].outboxes.append(outbox)
        }
        for (flusher, waiting) in due.values {
            flusher.schedule(waiting)
        }
    }

    /// What one record of the cluster's stream comes to on this node's connections: an update queued at its position
    /// to those among its recipients, or only its position taken (nothing here to send).
    private enum Delivery {
        case update(encoded: [UInt8], recipients: Recipients, excluded: ConnectionID?, position: Int64)
        case skip(Int64)
    }

    /// The most records carried out under one take of the lock: connections logging in wait at most that long.
    static let deliveryRun = 64

    /// Carries out records of the cluster's stream, in stream order. Runs of updates are queued under one take of
    /// the lock (at most ``deliveryRun`` records) and each event loop's flusher is woken once per run; a disconnection
    /// or a reload ends a run, so what came before it is queued first.
    func receive(_ records: [ClusterRecord]) async {
        guard let cluster = self.cluster else { return }
        var run: [Delivery] = []
        run.reserveCapacity(min(records.count, Self.deliveryRun))
        for record in records {
            let mine = record.origin == cluster.node
            switch record.kind {
            case .presence(let member, let online):
                guard let id = UUIDString(member), self.community.clusterPresence(id, node: record.origin, online: online) else {
                    run.append(.skip(record.position))
                    break
                }
                let encoded = self.encode(CommunityFunctions.presenceUpdate(id, online: online))
                let recipients = self.community.recipients(of: self.community.listingAudience(of: id))
                run.append(.update(encoded: encoded, recipients: recipients, excluded: nil, position: record.position))
            case .event(let body):
                let event: ClusterEvent
                do {
                    event = try ClusterEvent(body: body)
                } catch {
                    cluster.logger.error("Cluster: \(error)")
                    run.append(.skip(record.position))
                    break
                }
                switch event {
                case .update(let envelope, let scope, let excluded):
                    let recipients = self.community.recipients(of: Audience(scope))
                    let connection = mine ? excluded.map(ConnectionID.init) : nil
                    run.append(.update(encoded: Array(envelope.utf8), recipients: recipients, excluded: connection, position: record.position))
                case .disconnect(let member, let reason):
                    if !mine {
                        self.deliver(run)
                        run.removeAll(keepingCapacity: true)
                        self.disconnect(member: member, reason: reason)
                    }
                    run.append(.skip(record.position))
                case .changed(let change):
                    if !mine {
                        self.deliver(run)
                        run.removeAll(keepingCapacity: true)
                        do {
                            try await self.community.reload(change)
                        } catch where !Task.isCancelled {
                            cluster.logger.error("Cluster: reloading \(change) after another node changed it failed: \(error)")
                        } catch {}
                    }
                    run.append(.skip(record.position))
                }
            }
            if run.count >= Self.deliveryRun {
                self.deliver(run)
                run.removeAll(keepingCapacity: true)
            }
        }
        self.deliver(run)
    }

    /// Queues a run of records read from the cluster's stream on this node's connections, under one take of the
    /// lock, then wakes each event loop's flusher once.
    private func deliver(_ run: [Delivery]) {
        guard !run.isEmpty else { return }
        var due: [ObjectIdentifier: (flusher: LoopFlusher, outboxes: [Outbox])] = [:]
        self.state.withLock { state in
            for delivery in run {
                switch delivery {
                case .skip(let position):
                    state.log.skip(to: position)
                case .update(let encoded, let recipients, let excluded, let position):
                    guard position > state.log.position else { continue }
                    state.log.skip(to: position - 1)
                    let frame = state.log.append(recipients: recipients, excluded: excluded.map(self.key)) {
                        WebSocketTextFrame.make(Envelope.adding(position: $0, to: encoded))
                    }
                    for outbox in state.outboxes(recipients, excluding: excluded) {
                        guard case .needsDrain = outbox.enqueue(frame) else { continue }
                        due[ObjectIdentifier(outbox.flusher), default: (outbox.flusher, [])].outboxes.append(outbox)
                    }
                }
            }
        }
        for (flusher, waiting) in due.values {
            flusher.schedule(waiting)
        }
    }

    /// Sends `update` to this node's logged-in connections in `audience`.
    private func deliver(_ update: FunctionResult, to audience: Audience) {
        let recipients = self.community.recipients(of: audience)
        let excluded = audience.excluded
        let encoded = self.encode(update)
        // One flush round per event loop writes to every recipient on it that had nothing queued yet.
        var due: [ObjectIdentifier: (flusher: LoopFlusher, outboxes: [Outbox])] = [:]
        self.state.withLock { state in
            let frame: ByteBuffer
            let outboxes = state.outboxes(recipients, excluding: excluded)
            switch recipients {
            case .connection:
                guard !outboxes.isEmpty else { return }
                frame = WebSocketTextFrame.make(encoded)
            case .everyone, .members, .connections:
                frame = state.log.append(recipients: recipients, excluded: excluded.map(self.key)) {
                    WebSocketTextFrame.make(Envelope.adding(position: $0, to: encoded))
                }
            }
            for outbox in outboxes {
                guard case .needsDrain = outbox.enqueue(frame) else { continue }
                due[ObjectIdentifier(outbox.flusher), default: (outbox.flusher, [])].outboxes.append(outbox)
            }
        }
        for (flusher, waiting) in due.values {
            flusher.schedule(waiting)
        }
    }



    func disconnect(member: UUIDString, reason: String) {
        let outboxes = self.state.withLock { $0.outboxes(.members([member]), excluding: nil) }
        for outbox in outboxes {
            outbox.close(code: .policyViolation, reason: reason)
        }
    }
}

/// The ids of a process's updates: a random base plus a counter (unique without a system call per update).
final class UpdateIDs: Sendable {
    private let base: (high: UInt64, low: UInt64)
    private let counter = Atomic<UInt64>(0)

    init() {
        var generator = SystemRandomNumberGenerator()
        self.base = (generator.next(), generator.next())
    }

    func next() -> String {
        let count = self.counter.add(1, ordering: .relaxed).newValue
        return UUIDString(high: self.base.high, low: self.base.low &+ count).value
    }
}
