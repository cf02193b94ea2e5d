import CommuneClient
import CommuneCore
import CommunePostgres
import CommuneProtocol
import Foundation
import Logging
import Testing

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
