import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Testing

/// `search` over the wire, against a real server and its SQLite file.
@Suite("Search")
struct SearchTests {
    let general = ChannelAddress(path: "General", name: "General")
    let category = ChannelAddress(path: "", name: "General")
    let rules = ChannelAddress(path: "", name: "Rules")

    /// Stores `count` messages in `channel` through the server's store (not over the wire), `text(n)` for the n-th,
    /// sent at `start + n` ms; many appends in flight at once so that they share commits.
    func fill(_ server: TestServer, _ channel: ChannelAddress, count: Int, sender: UUIDString, start: Int64 = 1_000_000, text: @escaping @Sendable (Int) -> String) async throws {
        let nodes = try await server.server.store.interactables()
        let parent = channel.path.isEmpty ? nil : nodes.first { $0.name == channel.path && $0.parentID == nil }?.id
        let node = try #require(nodes.first { $0.name == channel.name && $0.parentID == parent && $0.codec == "text" })
        let store = server.server.store
        let batch = 1000
        for first in stride(from: 1, through: count, by: batch) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in first..<min(first + batch, count + 1) {
                    group.addTask {
                        _ = try await store.appendMessage(NewMessage(channelID: node.id, senderID: sender, text: text(n), sendTime: start + Int64(n)))
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test("finds a word in a channel of 100,000 messages and jumps to it; not after removal; not elsewhere when filtered")
    func bigChannel() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner()
        let bob = try await server.member("bob")
        try await self.fill(server, self.general, count: 100_000, sender: owner.identity.userID) { n in
            n == 31_337 ? "meet me at the zebra crossing, message \(n)" : "filler message number \(n) about nothing"
        }
        let page = try await bob.connection.search("Zebra")
        #expect(page.nextCursor == nil)
        let hit = try #require(page.results.first)
        #expect(page.results.count == 1)
        // Its id is its place in the commit order of the fill's concurrent appends: about 31,337.
        let zebra = hit.messageID
        #expect(hit.channel == self.general && hit.senderID == owner.identity.userID)
        #expect(hit.snippet.contains("zebra crossing"))
        // Jumping to it: the page of history that ends with it.
        let context = try await bob.connection.messages(in: hit.channel, amount: 5, before: zebra + 3)
        #expect(context.map(\.messageID) == [zebra + 2, zebra + 1, zebra, zebra - 1, zebra - 2])
        #expect(context[2].message == "meet me at the zebra crossing, message 31337")
        // Filters: the channel itself and its category find it; another channel does not.
        #expect(try await bob.connection.search("zebra", channel: self.general).results.map(\.messageID) == [zebra])
        #expect(try await bob.connection.search("zebra", channel: self.category).results.map(\.messageID) == [zebra])
        try await owner.connection.sendMessage("a zebra in the rules", to: self.rules)
        #expect(try await bob.connection.search("zebra", channel: self.rules).results.map(\.snippet) == ["a zebra in the rules"])
        #expect(try await bob.connection.search("zebra").results.map(\.channel) == [self.rules, self.general])
        // A common word pages with a cursor, newest first.
        let filler = try await bob.connection.search("filler", channel: self.general, amount: 50)
        #expect(filler.results.map(\.messageID) == Array((99_951...100_000).reversed()))
        let next = try await bob.connection.search("filler", channel: self.general, cursor: filler.nextCursor, amount: 3)
        #expect(next.results.map(\.messageID) == [99_950, 99_949, 99_948])
        // Removed: never found again.
        _ = try await owner.connection.call("remove_message", on: self.general, codec: "text", payload: ["message_id": .int(zebra)])
        #expect(try await bob.connection.search("zebra", channel: self.general).results.isEmpty)
        #expect(try await bob.connection.search("crossing").results.isEmpty)
        await server.stopAndRemove()
    }

    @Test("an edit is found by its new words, not its old; author and date filters")
    func editsAndFilters() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")
        let first = try await alice.connection.sendMessage("the giraffe is tall", to: self.general)
        let second = try await bob.connection.sendMessage("a giraffe, says bob", to: self.general)
        #expect(try await bob.connection.search("giraffe").results.map(\.messageID) == [second.messageID, first.messageID])
        #expect(try await bob.connection.search("giraffe", author: alice.identity.userID).results.map(\.messageID) == [first.messageID])
        #expect(try await bob.connection.search("giraffe", before: second.sendTime).results.map(\.messageID) == [first.messageID])
        #expect(try await bob.connection.search("giraffe", after: second.sendTime).results.map(\.messageID) == [second.messageID])
        _ = try await alice.connection.call(
            "edit_message", on: self.general, codec: "text", payload: ["message_id": .int(first.messageID), "message": "the okapi is shy"]
        )
        #expect(try await bob.connection.search("giraffe").results.map(\.messageID) == [second.messageID])
        let okapi = try #require(try await bob.connection.search("OKAPI").results.first)
        #expect(okapi.messageID == first.messageID && okapi.edited && okapi.snippet == "the okapi is shy")
        await server.stopAndRemove()
    }

    @Test("a result's snippet keeps spoilers hidden: each as ▒▒▒, also where the cut falls inside one")
    func spoilersInSnippets() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")
        _ = try await alice.connection.sendMessage("||the butler|| did it, said the gardener", to: self.general)
        let long = String(repeating: "hay ", count: 50) + "||" + String(repeating: "secret ", count: 40) + "plot|| and the heron flew"
        _ = try await alice.connection.sendMessage(long, to: self.general)
        // Found by a word inside the spoiler only: the message is found, its snippet still hides the word.
        _ = try await alice.connection.sendMessage("||walrus||", to: self.general)
        #expect(try await bob.connection.search("gardener").results.map(\.snippet) == ["▒▒▒ did it, said the gardener"])
        let heron = try #require(try await bob.connection.search("heron").results.first).snippet
        #expect(heron.hasSuffix("hay ▒▒▒ and the heron flew") && !heron.contains("secret") && !heron.contains("||"))
        #expect(try await bob.connection.search("walrus").results.map(\.snippet) == ["▒▒▒"])
        #expect(try await bob.connection.search("butler").results.map(\.snippet) == ["▒▒▒ did it, said the gardener"])
        await server.stopAndRemove()
    }

    @Test("hostile queries and filters: the exact error, and nothing stored changes")
    func hostile() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        try await alice.connection.sendMessage("body:hello (world) NEAR \"quoted\" star*", to: self.general)
        let before = try await alice.connection.messages(in: self.general)
        // Query syntax is searched as words, not run.
        for query in ["NEAR(hello", "body:hello", "\"quoted", "star*", "hello -world", "world^ near"] {
            #expect(try await alice.connection.search(query).results.count == 1, "\(query)")
        }
        #expect(try await alice.connection.search("world) OR x").results.isEmpty)
        let refusals: [(ErrorCode, JSONValue)] = [
            // A 100 KB query is over the frame limit (64 KiB) before search reads it; under it, over the query's.
            (.tooLarge, ["query": .string(String(repeating: "a", count: 100_000))]),
            (.invalidArgument, ["query": .string(String(repeating: "a", count: 60_000))]),
            (.invalidArgument, ["query": .string(String(repeating: "word ", count: 12_000))]),
            (.invalidArgument, ["query": .string((1...17).map { "w\($0)" }.joined(separator: " "))]),
            (.invalidArgument, ["query": "\"*\" : ( ) ^"]),
            (.invalidArgument, ["query": ""]),
            (.invalidArgument, [:]),
            (.invalidArgument, ["query": 5]),
            (.invalidArgument, ["query": "hello", "amount": 0]),
            (.invalidArgument, ["query": "hello", "amount": 51]),
            (.invalidArgument, ["query": "hello", "cursor": "abc"]),
            (.invalidArgument, ["query": "hello", "cursor": .string(String(repeating: "9", count: 100))]),
            (.invalidArgument, ["query": "hello", "author": "not-a-uuid"]),
            (.invalidArgument, ["query": "hello", "before": -1]),
            (.invalidArgument, ["query": "hello", "before": 10, "after": 10]),
            (.invalidArgument, ["query": "hello", "channel": "General/General"]),
            (.invalidArgument, ["query": "hello", "channel": ["path": "General"]]),
            (.notFound, ["query": "hello", "channel": ["path": "General", "name": "Nowhere"]]),
        ]
        for (code, payload) in refusals {
            await expectError(code) { _ = try await alice.connection.community("search", payload) }
            // A good request between refusals: ten malformed ones in a row close the connection.
            _ = try await alice.connection.search("hello")
        }
        #expect(try await alice.connection.messages(in: self.general) == before)
        #expect(try await alice.connection.search("hello").results.count == 1)
        await server.stopAndRemove()
    }
}
