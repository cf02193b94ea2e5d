import CommuneClient
import CommuneCore
import CommuneProtocol
import Foundation
import Logging
import Synchronization
import Testing

@testable import CommunePostgres
@testable import CommuneServer

/// Several nodes (`commune serve` with one `--database`) serving one community on a real PostgreSQL, with clients
/// spread over them: what one node decides reaches the members on every other, through the cluster's stream.
@Suite("Cluster: several nodes on one PostgreSQL")
struct ClusterTests {
    let general = ChannelAddress(path: "General", name: "General")

    /// Nodes started one after the other on a fresh database (the first makes the community and its owner invite),
    /// sharing one data folder (the attachments' files).
    final class Nodes: Sendable {
        let address: PostgresAddress
        let stores: [PostgresStore]
        let pools: [Task<Void, Never>]
        let servers: [TestServer]

        init(address: PostgresAddress, stores: [PostgresStore], pools: [Task<Void, Never>], servers: [TestServer]) {
            self.address = address
            self.stores = stores
            self.pools = pools
            self.servers = servers
        }

        static func start(_ count: Int) async throws -> Nodes {
            let address = try await freshTestDatabase()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("commune-cluster-\(UUIDString.random().value)")
            var stores: [PostgresStore] = []
            var pools: [Task<Void, Never>] = []
            var servers: [TestServer] = []
            for _ in 0..<count {
                let store = PostgresStore(address: address, logger: TestServer.quiet)
                pools.append(Task { await store.run() })
                try await store.migrate()
                stores.append(store)
                servers.append(try await TestServer.start(directory: directory, store: store, cluster: PostgresClusterStream(store: store)))
            }
            return Nodes(address: address, stores: stores, pools: pools, servers: servers)
        }

        subscript(index: Int) -> TestServer { self.servers[index] }

        func stop() async {
            for server in self.servers { await server.stop() }
            for pool in self.pools { pool.cancel() }
            try? FileManager.default.removeItem(at: self.servers[0].directory)
        }
    }

    @Test("records round-trip: updates keep their envelope byte for byte (tabs, line breaks, bidi), scopes, exclusions, disconnections and changes")
    func recordBodies() throws {
        let member = UUIDString.random()
        let envelope = #"{"type":"update","data":{"payload":{"message":"a\tb\nc \u202e evil"}}}"# + "\n\t‮ raw"
        let events: [ClusterEvent] = [
            .update(envelope: envelope, scope: .community, excluded: 17),
            .update(envelope: envelope, scope: .channelViewers(42), excluded: nil),
            .update(envelope: "{}", scope: .permissionHolders(.banUsers), excluded: nil),
            .update(envelope: "{}", scope: .members([member, UUIDString.random()]), excluded: 3),
            .disconnect(member: member, reason: "banned\nfor\tthis"),
            .changed(.tree), .changed(.groups), .changed(.info), .changed(.member(member)),
        ]
        for event in events {
            #expect(try ClusterEvent(body: event.body) == event)
        }
        #expect(try ClusterEvent(body: ClusterEvent.update(envelope: "{}", scope: .member(member), excluded: nil).body) == .update(envelope: "{}", scope: .members([member]), excluded: nil))
        for garbage in ["", "u", "u\tq\t\n{}", "d\tnot-a-uuid\nx", "x\tmember:nope", "z\t1"] {
            #expect(throws: ClusterEventError.self) { try ClusterEvent(body: garbage) }
        }
    }

    @Test("notifications carry the records appended, as stored, byte for byte, several to one; from a record too big for one, or past 8 of them, the head alone")
    func notifiedRecords() async throws {
        let address = try await freshTestDatabase()
        try await PostgresStore.withStore(address, logger: TestServer.quiet) { store in
            let stream = PostgresClusterStream(store: store)
            let notified = Mutex<[[ClusterRecord]?]>([])
            let listener = Task { try await stream.listen { records in notified.withLock { $0.append(records) } } }
            defer { listener.cancel() }
            for _ in 0..<1_000 where notified.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(10)) }
            let hostile = "a\tb\nc \u{202E}evil\u{202C} zero\u{200B}width\r\n 👩‍👩‍👧‍👦 e\u{301} back\\slash R1\t"
            let updates = (0..<40).map { number in
                ClusterRecord(origin: "node-a", kind: .event("u\tc\t\n{\"text\":\"\(hostile) \(number) \(String(repeating: "z", count: 300))\"}\n\(hostile)"))
            }
            let member = UUIDString.random().value
            try await stream.append(updates + [ClusterRecord(origin: "node-a", kind: .presence(member: member, online: true))])
            // A record that fits in no notification, then one after it in the same append.
            try await stream.append([
                ClusterRecord(origin: "node-b", kind: .event(String(repeating: "é", count: 4_000))), ClusterRecord(origin: "node-b", kind: .event("after")),
            ])
            // 200 records of 1,000 bytes: 8 notifications' worth carried (7 each), the rest read from the table.
            try await stream.append((0..<200).map { ClusterRecord(origin: "node-c", kind: .event("\($0) " + String(repeating: "w", count: 1_000))) })
            let stored = try await stream.records(after: 0, limit: 1_000)
            #expect(stored.count == 243)
            for _ in 0..<1_000 where !notified.withLock({ $0.count(where: { $0 == nil }) >= 3 }) { try await Task.sleep(for: .milliseconds(10)) }
            let seen = notified.withLock { $0 }
            // Listening (nil); the first append's 41 records in a few notifications; the second's head alone; the
            // third's first 56 records in 8, then its head.
            let heads = seen.indices.filter { seen[$0] == nil }
            try #require(heads.count == 3 && heads[0] == 0 && heads[2] == seen.count - 1, "\(seen.map { $0?.count ?? -1 })")
            let first = seen[1..<heads[1]], third = seen[(heads[1] + 1)..<heads[2]]
            #expect(first.count >= 2 && first.count < 10)
            #expect(first.flatMap { $0 ?? [] } == Array(stored.prefix(41)))
            #expect(third.count == 8 && third.allSatisfy { $0?.count == 7 })
            #expect(third.flatMap { $0 ?? [] } == Array(stored[43..<99]))
            #expect(stored[40].kind == .presence(member: member, online: true) && stored[41].kind == .event(String(repeating: "é", count: 4_000)))
        }
    }

    @Test("a notification that is not whole and well formed gives no records (the node reads the table instead)")
    func malformedNotifications() throws {
        let good = "P41\t1700000000000\n0\tevent\tnode-a\t\t5\nhello1\tonline\tnode-a\tm1\t0\n"
        #expect(PostgresClusterStream.records(inPayload: good) == [
            ClusterRecord(position: 41, origin: "node-a", kind: .event("hello"), appendedAt: 1_700_000_000_000),
            ClusterRecord(position: 42, origin: "node-a", kind: .presence(member: "m1", online: true), appendedAt: 1_700_000_000_000),
        ])
        let bad = [
            "", "41", "R1\t0\t0\tevent\tn\t\t0\t0\n", "P\t1\n", "P41\n", "P-1\t1\n0\tevent\tn\t\t0\n",
            "P41\t1\n0\tevent\tn\t\t6\nhello",  // shorter than its length
            "P41\t1\n0\tevent\tn\t\t4\nhello",  // longer: leftover bytes
            "P41\t1\n0\tevent\tn\t5\nhello",  // a field missing
            "P41\t1\nx\tevent\tn\t\t5\nhello", "P99999999999999999999\t1\n0\tevent\tn\t\t0\n",
            "P41\t1\n0\tevent\tn\t\t-5\nhello", "P41\t1\n0\tevent\tn\t\t5",
        ]
        for payload in bad {
            #expect(PostgresClusterStream.records(inPayload: payload) == nil, "\(payload.debugDescription)")
        }
    }

    @Test("presence in one append: the last record of a member on a node wins; other nodes and members are left as they were")
    func presenceInOneAppend() async throws {
        let address = try await freshTestDatabase()
        try await PostgresStore.withStore(address, logger: TestServer.quiet) { store in
            let stream = PostgresClusterStream(store: store)
            let (ann, bob) = (UUIDString.random().value, UUIDString.random().value)
            func presence(_ member: String, on node: String, _ online: Bool) -> ClusterRecord {
                ClusterRecord(origin: node, kind: .presence(member: member, online: online))
            }
            try await stream.append([presence(ann, on: "a", true), presence(ann, on: "b", true), presence(bob, on: "a", true)])
            #expect(try await stream.snapshot().online == [ann: ["a", "b"], bob: ["a"]])
            // Off then on again, on then off, and off twice, each in one append.
            try await stream.append([
                presence(ann, on: "a", false), presence(ann, on: "a", true), presence(bob, on: "c", true), presence(bob, on: "c", false),
                presence(ann, on: "b", false), presence(ann, on: "b", false),
            ])
            let snapshot = try await stream.snapshot()
            #expect(snapshot.online == [ann: ["a"], bob: ["a"]])
            #expect(snapshot.position == 9)
            #expect(try await stream.records(after: 3, limit: 10).map(\.position) == Array(4...9))
        }
    }

    @Test("pruning forgets the oldest records past the newest kept, in batches, and leaves the rest readable in order")
    func pruneInBatches() async throws {
        let address = try await freshTestDatabase()
        try await PostgresStore.withStore(address, logger: TestServer.quiet) { store in
            let stream = PostgresClusterStream(store: store)
            let total = 2 * PostgresClusterStream.pruneBatch + 1_500
            for start in stride(from: 0, to: total, by: 2_500) {
                try await stream.append((start..<min(start + 2_500, total)).map { ClusterRecord(origin: "n", kind: .event("\($0)")) })
            }
            #expect(try await stream.prune(keeping: 1_000) == total - 1_000)
            let kept = try await stream.records(after: 0, limit: 2_000)
            #expect(kept.map(\.position) == Array(Int64(total - 999)...Int64(total)))
            #expect(kept.first?.kind == .event("\(total - 1_000)"))
            #expect(try await stream.prune(keeping: 1_000) == 0)
        }
    }

    @Test("a message sent on node 1 reaches members on nodes 2 and 3, in order; an invite made on one node works on another; presence is community-wide")
    func messages() async throws {
        let nodes = try await Nodes.start(3)
        do {
            let alice = try await nodes[0].owner("alice")
            // Bob's invite is made on node 1 and used on node 2; Carol registers on node 3.
            let bob = try await nodes[1].member("bob", invite: try await nodes[0].invite())
            let carol = try await nodes[2].member("carol")
            var sent: [Int64] = []
            for index in 1...20 {
                sent.append(try await alice.connection.sendMessage("message \(index) ✓", to: self.general).messageID)
            }
            #expect(sent == Array(1...20))
            for reader in [bob, carol] {
                var seen: [Int64] = []
                while seen.count < 20 {
                    let live = try await reader.events.nextUpdate(TextFunction.messageLive)
                    seen.append(try #require(live.payload["message_id"]?.intValue))
                }
                #expect(seen == sent)
            }
            // Each node shows the others' members online.
            let members = try await bob.connection.members()
            #expect(Set(members.filter(\.online).map(\.username)) == ["alice", "bob", "carol"])
            // Node 2's /metrics shows how long the records took to reach it.
            let exposition = String(decoding: nodes[1].server.metrics.exposition(connections: 0), as: UTF8.self)
            let count = exposition.split(separator: "\n").first { $0.hasPrefix("commune_cluster_lag_seconds_count") }
            #expect((count?.split(separator: " ").last.flatMap { Double($0) } ?? 0) >= 20, "\(String(describing: count))")
        } catch {
            await nodes.stop()
            throw error
        }
        await nodes.stop()
    }

    @Test("a member who was on node 2 resumes on node 3: exactly the updates they missed, in order, then live ones")
    func resumeOnAnotherNode() async throws {
        let nodes = try await Nodes.start(3)
        do {
            let alice = try await nodes[0].owner("alice")
            let bob = try await nodes[1].member("bob")
            try await alice.connection.sendMessage("before", to: self.general)
            #expect(try await bob.events.nextUpdate(TextFunction.messageLive).payload["message"] == "before")
            await bob.connection.close()
            while try await bob.events.next() != nil {}
            let point = try #require(bob.connection.resumePoint)

            for text in ["one", "two", "three"] { try await alice.connection.sendMessage(text, to: self.general) }
            let again = try await nodes[2].connect()
            let events = EventReader(again)
            let welcome = try await again.login(bob.identity, resume: point)
            guard case .resumed(let missed)? = welcome.resume else {
                Issue.record("expected resumed, got \(String(describing: welcome.resume))")
                throw TestFailure("not resumed")
            }
            var frames: [Envelope] = []
            while frames.count < missed {
                guard let frame = try await events.next() else { throw TestFailure("closed") }
                if frame.type == .update { frames.append(frame) }
            }
            let texts = frames.compactMap { frame -> String? in
                guard let update = try? FunctionResult(data: frame.data), update.result == TextFunction.messageLive else { return nil }
                return update.payload["message"]?.stringValue
            }
            // Whatever node 3 had not read yet when Bob came follows live, after the missed ones.
            var live: [String] = []
            while texts.count + live.count < 3 {
                live.append(try #require(try await events.nextUpdate(TextFunction.messageLive).payload["message"]?.stringValue))
            }
            #expect(texts + live == ["one", "two", "three"])
            let positions = frames.compactMap(\.position)
            #expect(positions == positions.sorted() && Set(positions).count == positions.count)
            #expect(positions.allSatisfy { $0 > point.position })

            try await alice.connection.sendMessage("live", to: self.general)
            #expect(try await events.nextUpdate(TextFunction.messageLive).payload["message"] == "live")
        } catch {
            await nodes.stop()
            throw error
        }
        await nodes.stop()
    }

    @Test("a structure change on node 3 is seen everywhere; a ban on node 2 disconnects the member on nodes 1 and 3 within a second")
    func structureAndBans() async throws {
        let nodes = try await Nodes.start(3)
        do {
            // The owner invite node 1 printed makes Alice the owner on node 3.
            let alice = try await nodes[2].member("alice", invite: try #require(nodes[0].ready.ownerInvite).code)
            let bob = try await nodes[0].member("bob")
            let carolIdentity = Identity.generate()
            let carolOn1 = try await nodes[0].connect()
            try await carolOn1.register(carolIdentity, invite: try await nodes[1].invite(), username: "carol")
            _ = try await carolOn1.login(carolIdentity)
            let carolEvents1 = EventReader(carolOn1)
            let carolOn3 = try await nodes[2].connect()
            _ = try await carolOn3.login(carolIdentity)
            let carolEvents3 = EventReader(carolOn3)

            _ = try await alice.connection.call("create", on: ChannelAddress(path: "General", name: "plans"), payload: ["codec": "text"])
            let tree = try await bob.events.nextUpdate("tree_changed")
            #expect(try InteractableNode.decodeTree(tree.payload["interactables"] ?? [:]).contains { node in
                node.children.contains { $0.name == "plans" }
            })
            // Node 1 knows the new channel: Bob sends in it there.
            #expect(try await bob.connection.sendMessage("first plan", to: ChannelAddress(path: "General", name: "plans")).messageID == 1)

            // Alice's moderator on node 2 bans Carol, who is on nodes 1 and 3.
            let moderator = try await nodes[1].member("mod", group: "moderator")
            // The ban's reply comes once the stream has it: each node reads it on PostgreSQL's notification (or its
            // poll a second later); the bound here leaves room for a loaded machine.
            try await moderator.connection.remove(carolIdentity.userID, ban: true)
            try await carolEvents1.waitForClose(timeout: .seconds(3))
            try await carolEvents3.waitForClose(timeout: .seconds(3))
            // Node 3 knows she is banned: she cannot log in there again.
            let again = try await nodes[2].connect()
            await expectError(.unknownUser) { _ = try await again.login(carolIdentity) }
        } catch {
            await nodes.stop()
            throw error
        }
        await nodes.stop()
    }
}

/// `kill -9` of one of three node processes while 20 senders send as fast as they can through all of them.
@Suite("Cluster: a node killed mid-traffic")
struct ClusterKillTests {
    let general = ChannelAddress(path: "General", name: "General")
    static let senders = 20
    static let perSender = 30

    final class Flag: Sendable { let value = Mutex(false) }

    /// The messages a reader saw, each once, in the order they first came.
    final class Seen: Sendable {
        private let state = Mutex((order: [Int64](), ids: Set<Int64>()))
        func add(_ id: Int64) { self.state.withLock { if $0.ids.insert(id).inserted { $0.order.append(id) } } }
        var count: Int { self.state.withLock { $0.ids.count } }
        var order: [Int64] { self.state.withLock { $0.order } }
    }

    /// A client that moves to the next live node when its connection drops (as a load balancer would send it),
    /// logging in again with the point it had reached in the stream.
    actor Roaming {
        let identity: Identity
        let ports: [Int]
        let alive: @Sendable (Int) -> Bool
        private(set) var connection: CommuneConnection
        private(set) var node: Int
        /// How each reconnection's resume went.
        private(set) var resumes: [ResumeOutcome?] = []

        init(identity: Identity, ports: [Int], node: Int, connection: CommuneConnection, alive: @escaping @Sendable (Int) -> Bool) {
            self.identity = identity
            self.ports = ports
            self.node = node
            self.connection = connection
            self.alive = alive
        }

        /// Reconnects to the next live node (from `broken`, the connection that failed; another caller may have
        /// reconnected already) and resumes.
        func reconnect(after broken: CommuneConnection) async throws -> CommuneConnection {
            guard broken === self.connection else { return self.connection }
            let point = broken.resumePoint
            for attempt in 1...40 {
                self.node = (self.node + 1) % self.ports.count
                guard self.alive(self.node) else { continue }
                do {
                    let next = try await CommuneConnection.connect(
                        to: "ws://127.0.0.1:\(self.ports[self.node])/", requestTimeout: .seconds(10), logger: TestServer.quiet
                    )
                    let welcome = try await next.login(self.identity, resume: point)
                    self.resumes.append(welcome.resume)
                    self.connection = next
                    return next
                } catch {
                    if attempt == 40 { throw error }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            throw TestFailure("no live node")
        }
    }

    @Test(
        "kill -9 of a node while 20 senders send through all three: every client reconnects to a survivor and ends with exactly the acknowledged messages, in one order, no gap"
    )
    func killOneNode() async throws {
        let address = try await freshTestDatabase()
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("commune-kill-\(UUIDString.random().value)")
        var nodes: [ServeProcess] = []
        defer {
            for node in nodes { node.stop() }
            try? FileManager.default.removeItem(at: data)
        }
        for _ in 0..<3 {
            let node = try ServeProcess(arguments: ["--database", address.description, "--voice", "off", "--no-own-turn"], data: data)
            nodes.append(node)
            try await node.waitUntilListening()
        }
        let ports = nodes.map(\.port)
        let killed = Flag()
        let alive: @Sendable (Int) -> Bool = { index in index != 1 || !killed.value.withLock { $0 } }

        // The owner (node 1) makes one invite for everyone.
        let invite = try #require(
            nodes[0].standardOutput.split(separator: "\n").last { $0.contains("#invite=") }?.split(separator: "#invite=").last.map(String.init)
        )
        let owner = try await CommuneConnection.connect(to: "ws://127.0.0.1:\(ports[0])/", requestTimeout: .seconds(10), logger: TestServer.quiet)
        let ownerIdentity = Identity.generate()
        try await owner.register(ownerIdentity, invite: invite, username: "owner")
        _ = try await owner.login(ownerIdentity)
        let shared = try await owner.community(CommunityFunctions.createInvite, ["uses": .int(Int64(Self.senders + 3))])
        let code = try #require(shared.payload["code"]?.stringValue)

        func join(_ name: String, node: Int) async throws -> Roaming {
            let connection = try await CommuneConnection.connect(to: "ws://127.0.0.1:\(ports[node])/", requestTimeout: .seconds(10), logger: TestServer.quiet)
            let identity = Identity.generate()
            try await connection.register(identity, invite: code, username: name)
            _ = try await connection.login(identity)
            return Roaming(identity: identity, ports: ports, node: node, connection: connection, alive: alive)
        }

        // Three receivers, one on each node, reading every message_live (by id: a resend may repeat one) until
        // the test stops them; one whose connection drops reconnects to the next live node and resumes.
        var receivers: [(Roaming, Seen, Task<Void, any Error>)] = []
        let general = self.general
        for index in 0..<3 {
            let roaming = try await join("reader \(index + 1)", node: index)
            let seen = Seen()
            let task = Task { @Sendable () throws in
                var connection = await roaming.connection
                while !Task.isCancelled {
                    for await update in connection.updates {
                        if update.result == TextFunction.messageLive, let id = update.payload["message_id"]?.intValue {
                            seen.add(id)
                        }
                    }
                    if Task.isCancelled { return }
                    connection = try await roaming.reconnect(after: connection)
                }
            }
            receivers.append((roaming, seen, task))
        }

        // Twenty senders spread over the nodes, each sending its messages one after the other, numbered: a send
        // whose connection drops is sent again, with the same number, through the next live node.
        var senders: [Task<[Int64], any Error>] = []
        for index in 0..<Self.senders {
            let roaming = try await join("sender \(index + 1)", node: index % 3)
            senders.append(
                Task {
                    var acknowledged: [Int64] = []
                    var connection = await roaming.connection
                    for number in 1...Int64(Self.perSender) {
                        var attempts = 0
                        while true {
                            attempts += 1
                            do {
                                let sent = try await connection.sendMessage("s\(index)-\(number)", to: general, kind: .text, number: number)
                                acknowledged.append(sent.messageID)
                                break
                            } catch let error as CommuneError {
                                throw error
                            } catch {
                                guard attempts < 20 else { throw error }
                                connection = try await roaming.reconnect(after: connection)
                            }
                        }
                    }
                    return acknowledged
                }
            )
        }

        // Node 2 dies once a third of the messages are in.
        let total = Self.senders * Self.perSender
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let stored = try await owner.messages(in: self.general, amount: 1).last?.messageID ?? 0
            if stored >= Int64(total / 3) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        killed.value.withLock { $0 = true }
        nodes[1].killHard()

        var acknowledged: [Int64] = []
        for sender in senders { acknowledged += try await sender.value }
        // Every acknowledged message, once each: the ids are 1...total, with no gap.
        #expect(acknowledged.count == total)
        #expect(Set(acknowledged) == Set(1...Int64(total)))
        // Every reader gets every one of them (bounded: a missing one fails the test, it does not hang it).
        let caughtUp = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < caughtUp, receivers.contains(where: { $0.1.count < total }) {
            try await Task.sleep(for: .milliseconds(50))
        }
        var orders: [[Int64]] = []
        var resumed = 0
        for (roaming, seen, task) in receivers {
            task.cancel()
            let order = seen.order
            resumed += await roaming.resumes.count
            #expect(Set(order) == Set(acknowledged), "a reader missed \(Set(acknowledged).subtracting(order).sorted().prefix(10))")
            #expect(order.count == total)
            for outcome in await roaming.resumes {
                if case .resumed = outcome { continue }
                Issue.record("a reader reconnected without resuming: \(String(describing: outcome))")
            }
            orders.append(order)
        }
        // The readers who stayed and the one who moved saw the messages in the same order: the stream's.
        #expect(orders[0] == orders[2])
        #expect(orders[1] == orders[0])
        #expect(resumed >= 1, "the reader on the killed node never reconnected")
        print("kill -9 of node 2: \(total) messages acknowledged and seen by every reader; readers resumed \(resumed) time(s)")
        await owner.close()
    }
}
