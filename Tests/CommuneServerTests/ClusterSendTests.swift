import CommuneClient
import CommuneCore
import CommunePostgres
import CommuneProtocol
import Foundation
import Synchronization
import Testing

@testable import CommuneServer

/// A message's send on a node of a cluster: its `message_live` enters the stream in the message's own transaction,
/// after the records the node queued before it, and a send fails (stores nothing) when those cannot be written.
@Suite("Cluster: sending after queued updates")
struct ClusterSendTests {
    let general = ChannelAddress(path: "General", name: "General")

    /// The cluster's stream on PostgreSQL, whose appends fail while ``failing`` is set: the database unreachable for
    /// this node's writer, which keeps retrying (the message's own transaction still reaches the database).
    final class FailingAppends: ClusterStream {
        let base: PostgresClusterStream
        let failing = Atomic(false)

        init(_ base: PostgresClusterStream) { self.base = base }

        func snapshot() async throws -> ClusterSnapshot { try await self.base.snapshot() }
        func head() async throws -> Int64 { try await self.base.head() }
        func records(after position: Int64, limit: Int) async throws -> [ClusterRecord] { try await self.base.records(after: position, limit: limit) }
        func listen(_ notified: @escaping @Sendable ([ClusterRecord]?) -> Void) async throws { try await self.base.listen(notified) }
        func heartbeat(node: String, timeout: Duration) async throws { try await self.base.heartbeat(node: node, timeout: timeout) }
        func leave(node: String) async throws { try await self.base.leave(node: node) }
        func prune(keeping keep: Int64) async throws -> Int { try await self.base.prune(keeping: keep) }

        func append(_ records: [ClusterRecord]) async throws {
            if self.failing.load(ordering: .relaxed) { throw TestFailure("the database cannot be reached") }
            try await self.base.append(records)
        }
    }

    /// Runs `body` with one node and a second on the same database and data folder, whose stream's appends can be made
    /// to fail; stops both after.
    static func withFailingNode(_ body: (ClusterTests.Nodes, TestServer, FailingAppends) async throws -> Void) async throws {
        let nodes = try await ClusterTests.Nodes.start(1)
        let store = PostgresStore(address: nodes.address, logger: TestServer.quiet)
        let pool = Task { await store.run() }
        let stream = FailingAppends(PostgresClusterStream(store: store))
        var second: TestServer?
        do {
            try await store.migrate()
            let node = try await TestServer.start(directory: nodes[0].directory, store: store, cluster: stream)
            second = node
            try await body(nodes, node, stream)
        } catch {
            await second?.stop()
            pool.cancel()
            await nodes.stop()
            throw error
        }
        await second?.stop()
        pool.cancel()
        await nodes.stop()
    }

    @Test("a send on a node whose earlier updates cannot be written fails with internal_error within the request's time, stores nothing, and goes through once they can")
    func sendWhileStreamUnwritable() async throws {
        try await Self.withFailingNode { nodes, node, stream in
            let alice = try await nodes[0].owner("alice")
            try await alice.connection.sendMessage("before", to: self.general)

            stream.failing.store(true, ordering: .relaxed)
            // Carol registers and logs in on the second node: her joining and her coming online wait in its queue.
            let carol = try await node.member("carol")
            // The client waits 10 s for a reply (TestServer.connect): an error, not a timeout, says the send gave up.
            await expectError(.internalError) {
                try await carol.connection.sendMessage("not yet", to: self.general, kind: .text, number: 1)
            }
            #expect(try await alice.connection.messages(in: self.general).map { "\($0.messageID) \($0.message)" } == ["1 before"])

            // The database is back: the queue drains, and the same send (same number) is stored, once.
            stream.failing.store(false, ordering: .relaxed)
            let sent = try await carol.connection.sendMessage("not yet", to: self.general, kind: .text, number: 1)
            #expect(sent.messageID == 2)
            // Alice hears of Carol (and, first, of herself: the record of her own joining came after her login).
            var joined = try await alice.events.nextUpdate(CommunityFunctions.memberJoined)
            while joined.payload["user_id"]?.stringValue == alice.identity.userID.value {
                joined = try await alice.events.nextUpdate(CommunityFunctions.memberJoined)
            }
            #expect(joined.payload["user_id"]?.stringValue == carol.identity.userID.value)
            let live = try await alice.events.nextUpdate(TextFunction.messageLive)
            #expect(live.payload["message_id"]?.intValue == 2 && live.payload["message"] == "not yet")
            #expect(try await alice.connection.messages(in: self.general).map { "\($0.messageID) \($0.message)" }.sorted() == ["1 before", "2 not yet"])
        }
    }

    @Test("a change stored on a node whose updates cannot reach the stream is answered once the wait is given up, not when the database is back; its update goes out after")
    func replyWhileStreamUnwritable() async throws {
        try await Self.withFailingNode { nodes, node, stream in
            let alice = try await nodes[0].owner("alice")
            let first = try await alice.connection.sendMessage("react to me", to: self.general).messageID
            let carol = try await node.member("carol")
            stream.failing.store(true, ordering: .relaxed)
            // The reaction is stored; its update cannot be written. The client waits 10 s for a reply
            // (TestServer.connect): the reply comes, rather than a timeout.
            #expect(try await carol.connection.react("👍", to: first, in: self.general) == 1)
            stream.failing.store(false, ordering: .relaxed)
            let changed = try await alice.events.nextUpdate(TextFunction.reactionChanged)
            #expect(changed.payload["message_id"]?.intValue == first && changed.payload["emoji"]?.stringValue == "👍")
        }
    }

    static let rounds = 50

    @Test("a message never overtakes its node's earlier updates: the other node gets a reaction made just before it, and a newcomer's joining and coming online, first, in stream order (50 rounds)")
    func sendAfterQueuedUpdates() async throws {
        let nodes = try await ClusterTests.Nodes.start(2)
        do {
            let alice = try await nodes[0].owner("alice")
            let bob = try await nodes[1].member("bob")
            var previous = try await alice.connection.sendMessage("round 0", to: self.general).messageID
            var rounds: [(reacted: Int64, sent: Int64, newcomer: UUIDString, hello: Int64)] = []
            for round in 1...Self.rounds {
                // Alice reacts to her previous message and sends the next one without waiting for the reaction's reply.
                let react = FunctionRequest(
                    codec: TextFunction.codec, address: self.general, function: TextFunction.addReaction,
                    payload: ["message_id": .int(previous), "emoji": "👍"]
                )
                try await alice.connection.sendRaw(Envelope(type: .function, id: "react-\(round)", data: react.data).jsonString)
                let sent = try await alice.connection.sendMessage("round \(round)", to: self.general).messageID
                // A newcomer registers, logs in and sends at once: their replies do not wait for the records of their
                // joining and coming online, which are queued on node 1.
                let newcomer = try await nodes[0].member("newcomer \(round)")
                let hello = try await newcomer.connection.sendMessage("hello \(round)", to: self.general).messageID
                await newcomer.connection.close()
                rounds.append((previous, sent, newcomer.identity.userID, hello))
                previous = sent
            }

            // What node 2 delivered to Bob, in order, up to the last message.
            var updates: [(position: Int64?, update: FunctionResult)] = []
            let last = try #require(rounds.last?.hello)
            while !updates.contains(where: { $0.update.result == TextFunction.messageLive && $0.update.payload["message_id"]?.intValue == last }) {
                guard let frame = try await bob.events.next(timeout: .seconds(10)) else { throw TestFailure("Bob's connection closed") }
                if frame.type == .update, let update = try? FunctionResult(data: frame.data) { updates.append((frame.position, update)) }
            }
            // Each has its place in the stream, and they came in the stream's order.
            let watched = [TextFunction.reactionChanged, TextFunction.messageLive, CommunityFunctions.memberJoined, CommunityFunctions.presence]
            #expect(updates.allSatisfy { !watched.contains($0.update.result) || $0.position != nil })
            let positions = updates.compactMap(\.position)
            #expect(zip(positions, positions.dropFirst()).allSatisfy { $0 < $1 }, "\(positions)")
            func place(_ result: String, _ matches: (JSONValue) -> Bool) -> Int {
                updates.firstIndex { $0.update.result == result && matches($0.update.payload) } ?? Int.max
            }
            for round in rounds {
                let reaction = place(TextFunction.reactionChanged) { $0["message_id"]?.intValue == round.reacted }
                let message = place(TextFunction.messageLive) { $0["message_id"]?.intValue == round.sent }
                let joined = place(CommunityFunctions.memberJoined) { $0["user_id"]?.stringValue == round.newcomer.value }
                let online = place(CommunityFunctions.presence) { $0["user_id"]?.stringValue == round.newcomer.value && $0["online"] == true }
                let hello = place(TextFunction.messageLive) { $0["message_id"]?.intValue == round.hello }
                #expect(reaction < message && message < Int.max, "round of message \(round.sent): reaction at \(reaction), message at \(message)")
                #expect(joined < online && online < hello && hello < Int.max, "message \(round.hello): joined \(joined), online \(online), message \(hello)")
            }
        } catch {
            await nodes.stop()
            throw error
        }
        await nodes.stop()
    }
}
