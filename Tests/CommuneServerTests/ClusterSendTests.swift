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

    @Test("a send on a node whose earlier updates cannot be written fails with internal_error within the request's time, stores nothing, and goes through once they can")
    func sendWhileStreamUnwritable() async throws {
        let nodes = try await ClusterTests.Nodes.start(1)
        // A second node on the same database and data folder, whose stream's appends can be made to fail.
        let store = PostgresStore(address: nodes.address, logger: TestServer.quiet)
        let pool = Task { await store.run() }
        let stream = FailingAppends(PostgresClusterStream(store: store))
        var second: TestServer?
        do {
            try await store.migrate()
            let node = try await TestServer.start(directory: nodes[0].directory, store: store, cluster: stream)
            second = node
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
}
