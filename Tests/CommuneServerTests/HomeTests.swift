import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import CommuneSQLite
import CommunePostgres
import Foundation
import GRDB
import Testing

/// The member's home over the wire: `add_community`, `get_communities`, `update_community` and `remove_community` on a
/// real server with a real SQLite file. The member's other devices hear each change live and nobody else does; another
/// member's entry is `forbidden`; bad input is refused with its exact error and changes nothing; `--homes off` answers
/// `unknown_function`; a removed or banned member's home is gone; a restart keeps it.
@Suite("Home")
struct HomeTests {
    /// An opaque sealed field as a client would send it: base64 of `count` random bytes (the server never opens it).
    static func sealed(_ count: Int = 48) -> String {
        Data((0..<count).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }

    static func entry(_ id: UUIDString, position: String, secret: String? = nil) -> JSONValue {
        var payload: [String: JSONValue] = [
            "id": .string(id.value), "community_address": .string(Self.sealed()), "community_title": .string(Self.sealed()),
            "position": .string(position),
        ]
        if let secret { payload["community_secret"] = .string(secret) }
        return .object(payload)
    }

    func add(_ payload: JSONValue, on connection: CommuneConnection) async throws -> JSONValue {
        let reply = try await connection.community("add_community", payload)
        #expect(reply.result == "community_added")
        return try #require(reply.payload["community"])
    }

    func list(_ connection: CommuneConnection) async throws -> [JSONValue] {
        let reply = try await connection.community("get_communities")
        #expect(reply.result == "get_community")
        return try #require(reply.payload["communities"]?.arrayValue)
    }

    /// The entry as the server shows it, without the time it was changed.
    func stable(_ entry: JSONValue) -> JSONValue {
        var object = entry.objectValue ?? [:]
        object["updated_at"] = nil
        return .object(object)
    }

    /// Runs `body` and expects it to fail with exactly `code` and `message`.
    func expectRefusal(_ code: ErrorCode, _ message: String, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected \(code): \(message)")
        } catch let error as CommuneError {
            #expect(error.code == code)
            #expect(error.message == message)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("add, list, update and remove; the member's other device hears each change live, another member nothing")
    func roundTrip() async throws {
        let server = try await TestServer.start()
        let alice = try await server.owner("alice")
        let bob = try await server.member("bob")
        let phone = try await server.secondDevice(of: alice)

        let work = UUIDString.random()
        let chat = UUIDString.random()
        let games = UUIDString.random()
        let label = try await self.add(Self.entry(work, position: "3"), on: alice.connection)
        #expect(label["position"] == "3" && label["id"]?.stringValue == work.value && label["community_secret"] == .null)
        let updatedAt = try #require(label["updated_at"]?.stringValue)
        #expect(updatedAt.hasSuffix("Z") && updatedAt.count == "2026-12-02T03:05:00.123Z".count)
        #expect(try await phone.events.nextUpdate("community_added").payload["community"] == label)
        let secret = Self.sealed(200)
        // An upper-case id is stored lower-cased.
        var inFolder = Self.entry(chat, position: "3.1", secret: secret).objectValue ?? [:]
        inFolder["id"] = .string(chat.value.uppercased())
        let chatEntry = try await self.add(.object(inFolder), on: alice.connection)
        #expect(chatEntry["id"]?.stringValue == chat.value && chatEntry["community_secret"]?.stringValue == secret)
        #expect(try await phone.events.nextUpdate("community_added").payload["community"] == chatEntry)
        let gamesEntry = try await self.add(Self.entry(games, position: "10"), on: phone.connection)
        #expect(try await alice.events.nextUpdate("community_added").payload["community"] == gamesEntry)
        // Sorted by position number by number: 3, 3.1, 10 (not as text: "10" < "3").
        #expect(try await self.list(phone.connection) == [label, chatEntry, gamesEntry])

        // Move the chat out of the folder and clear its secret; the other fields stay.
        let moved = try await alice.connection.community(
            "update_community", ["id": .string(chat.value), "position": "1", "community_secret": .null]
        )
        #expect(moved.result == "community_updated")
        let movedEntry = try #require(moved.payload["community"])
        #expect(movedEntry["position"] == "1" && movedEntry["community_secret"] == .null)
        #expect(movedEntry["community_title"] == chatEntry["community_title"] && movedEntry["community_address"] == chatEntry["community_address"])
        #expect(try await phone.events.nextUpdate("community_updated").payload["community"] == movedEntry)
        let title = Self.sealed(64)
        let renamed = try await phone.connection.community("update_community", ["id": .string(games.value), "community_title": .string(title)])
        #expect(renamed.payload["community"]?["community_title"]?.stringValue == title)
        #expect(try await alice.events.nextUpdate("community_updated").payload == renamed.payload)
        #expect(try await self.list(alice.connection).map(self.stable) == [movedEntry, label, try #require(renamed.payload["community"])].map(self.stable))

        let removed = try await alice.connection.community("remove_community", ["id": .string(work.value)])
        #expect(removed.result == "community_removed" && removed.payload == ["id": .string(work.value)])
        #expect(try await phone.events.nextUpdate("community_removed").payload == ["id": .string(work.value)])
        #expect(try await self.list(phone.connection).compactMap { $0["id"]?.stringValue } == [chat.value, games.value])

        // Bob's home is his own and empty, and he heard none of it: his next update is the message Alice sends now.
        #expect(try await self.list(bob.connection).isEmpty)
        try await alice.connection.sendMessage("marker", to: ChannelAddress(path: "General", name: "General"))
        let next = try await bob.events.nextUpdate(TextFunction.messageLive)
        #expect(next.payload["message"]?.stringValue == "marker")
        // Neither did Alice's first connection hear its own changes as updates: only Games's, made on the phone.
        var heard: [String] = []
        while let envelope = try? await alice.events.next(timeout: .milliseconds(200)) {
            if envelope.type == .update, let update = try? FunctionResult(data: envelope.data) { heard.append(update.result) }
        }
        #expect(!heard.contains { $0.hasPrefix("community_") })
        await server.stopAndRemove()
    }

    @Test("another member's entry is forbidden, an unknown one not found, and neither home changes")
    func othersEntries() async throws {
        let server = try await TestServer.start()
        let alice = try await server.owner("alice")
        let bob = try await server.member("bob")
        let mine = UUIDString.random()
        _ = try await self.add(Self.entry(mine, position: "1"), on: alice.connection)
        let before = try await self.list(alice.connection)
        let forbidden = "Entry \(mine.value) is another member's."
        await self.expectRefusal(.forbidden, forbidden) {
            try await bob.connection.community("update_community", ["id": .string(mine.value), "position": "2"])
        }
        await self.expectRefusal(.forbidden, forbidden) {
            try await bob.connection.community("remove_community", ["id": .string(mine.value)])
        }
        await self.expectRefusal(.forbidden, forbidden) { _ = try await self.add(Self.entry(mine, position: "1"), on: bob.connection) }
        let unknown = UUIDString.random()
        await self.expectRefusal(.notFound, "No entry \(unknown.value) in your home.") {
            try await alice.connection.community("update_community", ["id": .string(unknown.value), "position": "2"])
        }
        await self.expectRefusal(.notFound, "No entry \(unknown.value) in your home.") {
            try await alice.connection.community("remove_community", ["id": .string(unknown.value)])
        }
        #expect(try await self.list(alice.connection) == before)
        #expect(try await self.list(bob.connection).isEmpty)
        await server.stopAndRemove()
    }

    @Test("bad ids, sealed fields and positions, duplicates and an empty update are refused, and nothing changes")
    func badInput() async throws {
        let server = try await TestServer.start()
        let alice = try await server.owner("alice")
        let first = UUIDString.random()
        _ = try await self.add(Self.entry(first, position: "2.1", secret: Self.sealed()), on: alice.connection)
        let before = try await self.list(alice.connection)
        let fresh = UUIDString.random()
        func with(_ field: String, _ value: JSONValue) -> JSONValue {
            var payload = Self.entry(fresh, position: "5").objectValue ?? [:]
            payload[field] = value
            return .object(payload)
        }
        let position = "data.payload.position must be 1 to 3 numbers 0 to 999999 joined by dots, without leading zeros (\"3\", \"3.1\"), not"
        let base64 = "must be standard base64 with padding (the client seals it)."
        let cases: [(JSONValue, String)] = [
            (with("id", "not-a-uuid"), "data.payload.id must be a UUID like 6f1c2c9e-0d6b-4e4e-9a43-8d2b1f7e5a10."),
            (with("id", "0b7c4a52-98d3-4c4e-8d0e-2f0a3f1b9c1"), "data.payload.id must be a UUID like 6f1c2c9e-0d6b-4e4e-9a43-8d2b1f7e5a10."),
            (with("community_address", "not base64!"), "data.payload.community_address \(base64)"),
            (with("community_title", "QUJD"), "data.payload.community_title is 3 bytes, too short to be sealed (at least 28: a 12-byte nonce and a 16-byte tag)."),
            (with("community_title", .string(String(Self.sealed(28).dropLast()))), "data.payload.community_title \(base64)"),
            (with("community_title", .string(Self.sealed(27))), "data.payload.community_title is 27 bytes, too short to be sealed (at least 28: a 12-byte nonce and a 16-byte tag)."),
            (with("community_address", .string(String(repeating: "A", count: 4_097))), "data.payload.community_address must be at most 4096 characters of base64, not 4097."),
            (with("community_secret", .string(String(repeating: "A", count: 4_100))), "data.payload.community_secret must be at most 4096 characters of base64, not 4100."),
            (with("community_secret", .string(Self.sealed(31).replacingOccurrences(of: "=", with: ""))), "data.payload.community_secret \(base64)"),
            // Hidden characters are not base64.
            (with("community_title", .string("\u{202E}" + Self.sealed(30))), "data.payload.community_title \(base64)"),
            (with("community_title", .string(Self.sealed(30) + "\u{200B}")), "data.payload.community_title \(base64)"),
            (with("community_title", .string(Self.sealed(30) + "\n")), "data.payload.community_title \(base64)"),
            (with("community_title", 42), "data.payload.community_title must be a string, not number."),
            (with("community_address", .null), "data.payload.community_address is required."),
            (with("position", "01"), "\(position) \"01\"."),
            (with("position", "1..2"), "\(position) \"1..2\"."),
            (with("position", "1.2.3.4"), "\(position) \"1.2.3.4\"."),
            (with("position", "-1"), "\(position) \"-1\"."),
            (with("position", "1000000"), "\(position) \"1000000\"."),
            (with("position", ""), "\(position) \"\"."),
            (with("position", "1."), "\(position) \"1.\"."),
            (with("position", " 1"), "\(position) \" 1\"."),
            (with("position", "１"), "\(position) \"１\"."),
            (with("position", 1), "data.payload.position must be a string, not number."),
            (with("position", "2.1"), "position 2.1 is taken in your home."),
            (Self.entry(first, position: "7"), "id \(first.value) is already in your home."),
        ]
        for (payload, message) in cases {
            await self.expectRefusal(.invalidArgument, message) { _ = try await self.add(payload, on: alice.connection) }
            // Nothing changed (and a request that succeeds keeps the connection from closing after 10 errors in a row).
            #expect(try await self.list(alice.connection) == before)
        }
        let second = UUIDString.random()
        _ = try await self.add(Self.entry(second, position: "999999.0.999999"), on: alice.connection)
        let withSecond = try await self.list(alice.connection)
        let updates: [(JSONValue, String)] = [
            (["id": .string(second.value)], "update_community changes at least one of community_address, community_title, community_secret and position."),
            (["id": .string(second.value), "position": "2.1"], "position 2.1 is taken in your home."),
            (["id": .string(second.value), "position": "0.0.0.0"], "\(position) \"0.0.0.0\"."),
            (["id": .string(second.value), "community_title": ""], "data.payload.community_title is 0 bytes, too short to be sealed (at least 28: a 12-byte nonce and a 16-byte tag)."),
            (["id": "x", "position": "3"], "data.payload.id must be a UUID like 6f1c2c9e-0d6b-4e4e-9a43-8d2b1f7e5a10."),
        ]
        for (payload, message) in updates {
            await self.expectRefusal(.invalidArgument, message) { try await alice.connection.community("update_community", payload) }
            #expect(try await self.list(alice.connection) == withSecond)
        }
        await self.expectRefusal(.invalidArgument, "data.payload.id is required.") { try await alice.connection.community("remove_community") }
        #expect(try await self.list(alice.connection) == withSecond)
        #expect(withSecond.count == before.count + 1)
        // Moving an entry to its own position is no conflict.
        let same = try await alice.connection.community("update_community", ["id": .string(first.value), "position": "2.1"])
        #expect(same.payload["community"]?["position"] == "2.1")
        await server.stopAndRemove()
    }

    @Test("a home holds 500 entries; the 501st is limit_reached and stores nothing")
    func limit() async throws {
        let server = try await TestServer.start()
        let alice = try await server.owner("alice")
        for index in 0..<500 {
            _ = try await self.add(Self.entry(UUIDString.random(), position: "\(index / 100).\(index % 100)"), on: alice.connection)
        }
        await self.expectRefusal(.limitReached, "Your home holds 500 entries, the most it may hold; remove one first.") {
            _ = try await self.add(Self.entry(UUIDString.random(), position: "9"), on: alice.connection)
        }
        let all = try await self.list(alice.connection)
        #expect(all.count == 500 && !all.contains { $0["position"] == "9" })
        // Room again after a removal.
        _ = try await alice.connection.community("remove_community", ["id": all[0]["id"] ?? .null])
        _ = try await self.add(Self.entry(UUIDString.random(), position: "9"), on: alice.connection)
        await server.stopAndRemove()
    }

    @Test("with --homes off every home function is unknown_function and nothing is stored")
    func homesOff() async throws {
        let server = try await TestServer.start { $0.community.homes = false }
        let alice = try await server.owner("alice")
        let message = "This community does not keep homes (commune serve --homes off)."
        let id = UUIDString.random()
        await self.expectRefusal(.unknownFunction, message) { _ = try await self.add(Self.entry(id, position: "1"), on: alice.connection) }
        await self.expectRefusal(.unknownFunction, message) { _ = try await self.list(alice.connection) }
        await self.expectRefusal(.unknownFunction, message) {
            try await alice.connection.community("update_community", ["id": .string(id.value), "position": "2"])
        }
        await self.expectRefusal(.unknownFunction, message) { try await alice.connection.community("remove_community", ["id": .string(id.value)]) }
        #expect(try await server.server.store.homeEntries(memberID: alice.identity.userID).isEmpty)
        await server.stopAndRemove()
    }

    @Test("a removed or banned member's home is deleted with them")
    func removedMembersHome() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner("owner")
        let bob = try await server.member("bob")
        let carol = try await server.member("carol")
        for (client, position) in [(bob, "1"), (bob, "2"), (carol, "1")] {
            _ = try await self.add(Self.entry(UUIDString.random(), position: position), on: client.connection)
        }
        _ = try await self.add(Self.entry(UUIDString.random(), position: "1"), on: owner.connection)
        try await owner.connection.remove(bob.identity.userID, ban: true, reason: "spam")
        try await owner.connection.remove(carol.identity.userID)
        let store = server.server.store
        #expect(try await store.homeEntries(memberID: bob.identity.userID).isEmpty)
        #expect(try await store.homeEntries(memberID: carol.identity.userID).isEmpty)
        #expect(try await store.homeEntries(memberID: owner.identity.userID).count == 1)
        await server.stop()
        // Nothing of theirs is left in the file.
        let queue = try DatabaseQueue(path: server.directory.appendingPathComponent(SQLiteStore.fileName).path)
        let members = try await queue.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT member_id FROM home_entries") }
        #expect(members == [owner.identity.userID.value])
        try? FileManager.default.removeItem(at: server.directory)
    }

    @Test("on a cluster, a change made through one node reaches the member's device on another, and nobody else")
    func acrossNodes() async throws {
        let nodes = try await ClusterTests.Nodes.start(2)
        do {
            let alice = try await nodes[0].member("alice", invite: try #require(nodes[0].ready.ownerInvite).code)
            let bob = try await nodes[1].member("bob")
            let phone = try await nodes[1].connect()
            _ = try await phone.login(alice.identity)
            let phoneEvents = EventReader(phone)
            let id = UUIDString.random()
            let added = try await self.add(Self.entry(id, position: "1"), on: alice.connection)
            #expect(try await phoneEvents.nextUpdate("community_added", timeout: .seconds(10)).payload["community"] == added)
            let moved = try await phone.community("update_community", ["id": .string(id.value), "position": "2.1"])
            #expect(try await alice.events.nextUpdate("community_updated", timeout: .seconds(10)).payload == moved.payload)
            #expect(try await self.list(alice.connection) == [try #require(moved.payload["community"])])
            // Bob, on the phone's node, heard none of it: his next update is Alice's message.
            try await alice.connection.sendMessage("marker", to: ChannelAddress(path: "General", name: "General"))
            #expect(try await bob.events.nextUpdate(TextFunction.messageLive, timeout: .seconds(10)).payload["message"]?.stringValue == "marker")
        } catch {
            await nodes.stop()
            throw error
        }
        await nodes.stop()
    }

    @Test("the home survives a restart, and the file holds exactly the strings the client sent")
    func survivesARestart() async throws {
        let server = try await TestServer.start()
        let alice = try await server.owner("alice")
        let ids = [UUIDString.random(), UUIDString.random()]
        let sent = [Self.entry(ids[0], position: "1", secret: Self.sealed(90)), Self.entry(ids[1], position: "1.1")]
        for payload in sent { _ = try await self.add(payload, on: alice.connection) }
        let before = try await self.list(alice.connection)
        await server.stop()

        let queue = try DatabaseQueue(path: server.directory.appendingPathComponent(SQLiteStore.fileName).path)
        let rows = try await queue.read { db in
            try Row.fetchAll(db, sql: "SELECT member_id, entry_id, position, address, title, secret FROM home_entries ORDER BY position")
        }
        #expect(rows.count == 2)
        for (row, payload) in zip(rows, sent) {
            #expect(row["member_id"] as String == alice.identity.userID.value)
            #expect(row["entry_id"] as String? == payload["id"]?.stringValue)
            #expect(row["position"] as String? == payload["position"]?.stringValue)
            #expect(row["address"] as String? == payload["community_address"]?.stringValue)
            #expect(row["title"] as String? == payload["community_title"]?.stringValue)
            #expect(row["secret"] as String? == payload["community_secret"]?.stringValue)
        }

        let restarted = try await TestServer.start(directory: server.directory)
        let again = try await restarted.connect()
        _ = try await again.login(alice.identity)
        #expect(try await self.list(again) == before)
        await restarted.stopAndRemove()
    }
}
