import CommuneClient
import CommuneCore
import CommuneMigration
import CommunePostgres
import CommuneProtocol
import CommuneSQLite
import CommuneServer
import Foundation
import GRDB
import Logging
import PostgresNIO
import Synchronization
import Testing

/// `commune migrate-store` (``StoreMigration``): a community filled through a real server on its SQLite file, copied
/// to a fresh PostgreSQL database of the test cluster, then served from that database: the same history, tree,
/// members, bans, invites, audit log and attachment (from the same data folder), logins that still work, and new
/// messages numbered after the copied ones. A destination that holds a community, and a folder without one, are
/// refused with their sentences and change nothing; a copy whose
/// counts differ (the command run as a user runs it) shows the counts, exits with status 1 and leaves nothing.
@Suite("migrate-store", .serialized)
struct MigrateStoreTests {
    let general = ChannelAddress(path: "General", name: "General")
    let plans = ChannelAddress(path: "General", name: "plans ✨")
    /// Message text no store may alter: bidi overrides and isolates, zero-width characters, emoji with joiners and
    /// skin tones, combining marks, a backslash and a tab and a new line (COPY's escapes).
    let hostile = "\u{202E}txt.exe\u{202C} \u{2066}isolated\u{2069} zero\u{200B}width\u{200D}joiner \u{FEFF}bom 👩‍👩‍👧‍👦 👍🏽 e\u{301}\u{302} back\\slash\ttab\nline \\N"

    static let logger: Logger = {
        var logger = Logger(label: "commune.test.migrate-store")
        logger.logLevel = .error
        return logger
    }()

    /// What a client and the store show of the community, to compare before and after the copy.
    struct View: Equatable {
        var pages: [[ChatMessage]]
        var tree: [InteractableNode]
        var members: [String]
        var storedMembers: Set<Member>
        var readState: [ChannelReadState]
        var pins: [FunctionResult]
        /// The reader's home (get_communities).
        var home: FunctionResult
        var settings: [String: String]
        var interactables: [Interactable]
        var groups: Set<Group>
        var bans: [Ban]
        var invites: [Invite]
        var audit: [AuditEntry]
    }

    func view(_ server: TestServer, owner: Client, reader: Client) async throws -> View {
        var pages: [[ChatMessage]] = []
        for channel in [self.general, self.plans] {
            pages.append(try await owner.connection.messages(in: channel, amount: 50))
            pages.append(try await owner.connection.messages(in: channel, amount: 50, before: 51))
        }
        let store = server.server.store
        let login = try await server.connect()
        defer { Task { await login.close() } }
        return View(
            pages: pages,
            tree: try await login.login(owner.identity).interactables,
            members: try await owner.connection.members().map { "\($0.userID.value) \($0.username) \($0.group)" }.sorted(),
            storedMembers: Set(try await store.members()),
            readState: try await reader.connection.readState(),
            pins: [
                try await owner.connection.call(TextFunction.getPins, on: self.general),
                try await owner.connection.call(TextFunction.getPins, on: self.plans),
            ],
            home: try await reader.connection.community("get_communities"),
            // The community key and the rest; the public URL a server records is its own (each test server's port).
            settings: try await store.settings().filter { $0.key != "server.public_url" },
            interactables: try await store.interactables().sorted { $0.id < $1.id },
            groups: Set(try await store.groups()),
            bans: try await store.bans(),
            invites: try await store.invites(),
            audit: try await store.auditLog(limit: 1_000)
        )
    }

    @Test("a filled SQLite community (10,000 messages, an attachment) is served from PostgreSQL after the copy")
    func migrateFilledCommunity() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("commune-migrate-\(UUIDString.random().value)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await TestServer.start(directory: directory)
        let owner = try await server.owner("Olivia 🦊")
        try await owner.connection.community("create_group", ["group": "staff ☕", "power": 60, "changes": [["add": "manage_channels"]]])
        let alice = try await server.member("Zoë", group: "staff ☕")
        let bob = try await server.member("Bob 李")
        let mallory = try await server.member("mallory")
        _ = try await owner.connection.call("create", on: self.plans, payload: ["codec": "text", "access": ["staff ☕"]])
        try await owner.connection.remove(mallory.identity.userID, ban: true, reason: "spam 🤖 «Ωmega» back\\slash")
        _ = try await server.invite(uses: 5)

        // 4,990 messages in each channel straight into the store (the server's own writer, group commit), then ten
        // through the server: hostile text, a reply, reactions, pins, mentions, an attachment.
        let nodes = try await server.server.store.interactables()
        let generalID = try #require(nodes.first { $0.name == self.general.name && $0.parentID != nil }?.id)
        let plansID = try #require(nodes.first { $0.name == self.plans.name }?.id)
        let senders = [owner.identity.userID, alice.identity.userID]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (lane, sender) in senders.enumerated() {
                for channel in [generalID, plansID] {
                    group.addTask {
                        for number in 0..<(lane == 0 ? 2_495 : 2_500) {
                            let text = "message \(number) from \(lane) \(number % 97 == 0 ? self.hostile : "")"
                            _ = try await server.server.store.appendMessage(
                                NewMessage(channelID: channel, senderID: sender, text: text, sendTime: UnixTime.nowMilliseconds())
                            )
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let file = try await AttachmentUploader.upload(AttachmentTests.png, baseURL: server.baseURL, sessionToken: alice.welcome.sessionToken)
        for channel in [self.general, self.plans] {
            let first = try await alice.connection.sendMessage(self.hostile, to: channel)
            let reply = try await owner.connection.sendMessage(
                "re: <@\(alice.identity.userID.value)> \(self.hostile)", to: channel, kind: .text, replyTo: first.messageID
            )
            try await alice.connection.react("👍🏽", to: first.messageID, in: channel)
            try await owner.connection.react("🏳️‍🌈", to: first.messageID, in: channel)
            try await alice.connection.react("👩‍👩‍👧‍👦", to: reply.messageID, in: channel)
            _ = try await owner.connection.call(TextFunction.pinMessage, on: channel, payload: ["message_id": .int(first.messageID)])
            _ = try await owner.connection.call(TextFunction.pinMessage, on: channel, payload: ["message_id": .int(1)])
            _ = try await alice.connection.sendMessage("see the picture", to: channel, kind: .text, attachments: [file.attachmentID])
            _ = try await owner.connection.sendMessage("@everyone \(self.hostile)", to: channel)
            _ = try await alice.connection.sendMessage("the last one", to: channel)
        }
        _ = try await bob.connection.markRead(self.general, upTo: 4_000)
        _ = try await alice.connection.markRead(self.plans, upTo: 2_000)
        // Two entries in Alice's home, one with a secret.
        _ = try await alice.connection.community("add_community", HomeTests.entry(.random(), position: "1", secret: HomeTests.sealed(120)))
        _ = try await alice.connection.community("add_community", HomeTests.entry(.random(), position: "1.1"))
        let before = try await self.view(server, owner: owner, reader: alice)
        #expect(before.pages[0].map(\.messageID).max() == 5_000 && before.pages[3].map(\.messageID).min() == 1)
        let (_, bytes) = try await AttachmentUploader.download(file.attachmentID, baseURL: server.baseURL, sessionToken: bob.welcome.sessionToken)
        for client in [owner, alice, bob, mallory] { await client.connection.close() }
        await server.stop()

        let address = try await freshTestDatabase()
        try await PostgresStore.withStore(address, logger: Self.logger) { store in
            var seen: [StoreMigration.Progress] = []
            var migration = StoreMigration(source: directory, destination: store)
            migration.batchSize = 700
            let counts = try await migration.run { seen.append($0) }
            let byTable = Dictionary(uniqueKeysWithValues: counts.map { ($0.table, $0) })
            #expect(counts.filter { !$0.matches }.isEmpty, "\(counts)")
            #expect(byTable["messages"]?.destination == 10_000)
            #expect(byTable["members"]?.destination == 3 && byTable["bans"]?.destination == 1)
            #expect(byTable["channel_heads"]?.destination == 2 && byTable["attachments"]?.destination == 1)
            #expect(byTable["reactions"]?.destination == 6 && byTable["pins"]?.destination == 4)
            #expect((byTable["mentions"]?.destination ?? 0) >= 4 && (byTable["read_marks"]?.destination ?? 0) >= 2)
            #expect(byTable["home_entries"]?.destination == 2)
            // Progress comes in batches: messages 0, 700, 1,400, …, 10,000 of 10,000.
            let messages = seen.filter { $0.table == "messages" }
            #expect(messages.map(\.done) == Array(stride(from: 0, to: 10_000, by: 700)) + [10_000])
            #expect(messages.allSatisfy { $0.total == 10_000 })

            // The same data folder (its attachments), the community in PostgreSQL.
            let node = try await TestServer.start(directory: directory, store: store)
            #expect(node.ready.ownerInvite == nil)
            func again(_ client: Client) async throws -> Client {
                let connection = try await node.connect()
                let welcome = try await connection.login(client.identity)
                return Client(connection: connection, identity: client.identity, welcome: welcome, events: EventReader(connection))
            }
            let owner2 = try await again(owner)
            let alice2 = try await again(alice)
            let bob2 = try await again(bob)
            let after = try await self.view(node, owner: owner2, reader: alice2)
            #expect(after.pages == before.pages)
            #expect(after.tree == before.tree)
            #expect(after.members == before.members)
            #expect(after.readState == before.readState)
            #expect(after.pins == before.pins)
            #expect(after.home == before.home && before.home.payload["communities"]?.arrayValue?.count == 2)
            #expect(after.settings == before.settings)
            #expect(after.interactables == before.interactables)
            #expect(after.groups == before.groups)
            #expect(after.bans == before.bans)
            #expect(after.invites == before.invites)
            #expect(after.audit == before.audit)
            #expect(before.pages.flatMap { $0 }.filter { $0.message.contains(self.hostile) }.count >= 4)
            let (_, downloaded) = try await AttachmentUploader.download(file.attachmentID, baseURL: node.baseURL, sessionToken: bob2.welcome.sessionToken)
            #expect(downloaded == bytes)
            // The next messages continue each channel's numbering.
            #expect(try await bob2.connection.sendMessage("after the move", to: self.general).messageID == 5_001)
            #expect(try await alice2.connection.sendMessage("after the move", to: self.plans).messageID == 5_001)
            // New nodes of the tree and audit entries take ids after the copied ones.
            _ = try await owner2.connection.call("create", on: ChannelAddress(path: "General", name: "after 🚚"), payload: ["codec": "text"])
            let created = try #require(try await store.interactables().first { $0.name == "after 🚚" })
            #expect(created.id == (before.interactables.map(\.id).max() ?? 0) + 1)
            let audit = try await store.auditLog(limit: 1_000)
            #expect(audit.count == before.audit.count + 1 && Array(audit.dropFirst()) == before.audit)
            // The banned identity stays banned.
            let evading = try await node.connect()
            await expectError(.banned) { try await evading.register(mallory.identity, invite: try await node.invite(), username: "mallory2") }
            for client in [owner2, alice2, bob2] { await client.connection.close() }
            await evading.close()
            await node.stop()
        }
    }

    @Test("a database that holds a community is refused with its counts, and nothing in it changes")
    func refuseNonEmptyDestination() async throws {
        let address = try await freshTestDatabase()
        let source = try await TestServer.start()
        let sourceOwner = try await source.owner()
        _ = try await sourceOwner.connection.sendMessage("from SQLite", to: self.general)
        await sourceOwner.connection.close()
        await source.stop()
        defer { try? FileManager.default.removeItem(at: source.directory) }
        try await PostgresStore.withStore(address, logger: Self.logger) { store in
            let node = try await TestServer.start(store: store)
            let owner = try await node.owner("Olivia")
            let bob = try await node.member("Bob")
            _ = try await owner.connection.sendMessage("already here \(self.hostile)", to: self.general)
            await owner.connection.close()
            await bob.connection.close()
            await node.stopAndRemove()
            let before = try await Self.snapshot(store)
            await #expect {
                _ = try await StoreMigration(source: source.directory, destination: store).run()
            } throws: { error in
                "\(error)" == "The database \(address) already holds a community (2 members, 1 message); migrate-store copies into an empty database only. Nothing was changed."
            }
            #expect(try await Self.snapshot(store) == before)
        }
    }

    @Test("a copy whose counts differ is rolled back: the user sees the table, the mismatch and exit status 1, and the database stays empty")
    func countMismatch() async throws {
        let source = try await TestServer.start()
        defer { try? FileManager.default.removeItem(at: source.directory) }
        let owner = try await source.owner()
        _ = try await owner.connection.sendMessage("before the copy \(self.hostile)", to: self.general)
        await owner.connection.close()
        await source.stop()
        let settings = try DatabaseQueue(path: source.directory.appendingPathComponent(SQLiteStore.fileName).path)
        let count = try await settings.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM settings") ?? 0 }
        try settings.close()
        let address = try await freshTestDatabase()
        // The destination's schema, and a trigger in it that plants one more setting whenever settings are copied:
        // what anything else writing to the database during the copy would do to a count.
        try await PostgresStore.withStore(address, logger: Self.logger) { store in
            try await address.withClient(logger: Self.logger) { client in
                try await client.query(
                    """
                    CREATE FUNCTION plant_setting() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        IF pg_trigger_depth() = 1 THEN INSERT INTO settings (key, value) VALUES ('planted', 'x'); END IF;
                        RETURN NULL;
                    END $$
                    """,
                    logger: Self.logger
                )
                try await client.query(
                    "CREATE TRIGGER plant_setting AFTER INSERT ON settings FOR EACH STATEMENT EXECUTE FUNCTION plant_setting()", logger: Self.logger
                )
            }
            let before = try await Self.snapshot(store)
            let outcome = try await runCommune(["migrate-store", "--from", source.directory.path, "--to", Self.url(of: address)])
            #expect(outcome.status == 1)
            let table = outcome.output.split(separator: "\n").filter { $0.hasPrefix("table ") || $0.hasPrefix("settings ") || $0.hasPrefix("members ") }
            #expect(
                table.map { $0.split(separator: " ").joined(separator: " ") } == [
                    "table SQLite PostgreSQL", "settings \(count) \(count + 1) MISMATCH", "members 1 1 ok",
                ]
            )
            // Standard error: the progress lines, then what went wrong.
            #expect(
                outcome.errors.split(separator: "\n").filter { !$0.hasPrefix("migrate-store: ") } == [
                    "Error: The copy does not match (settings: \(count) in SQLite, \(count + 1) copied); it was rolled back, nothing was changed."
                ]
            )
            #expect(!outcome.output.contains("Copied"))
            // Rolled back: no member, no message, not even the planted setting.
            #expect(try await Self.snapshot(store) == before)
            #expect(try await store.members().isEmpty)
        }
    }

    /// `address` as the `postgres://` URL a user would type.
    static func url(of address: PostgresAddress) -> String {
        if let folder = address.socketFolder { return "postgres://\(address.username)@/\(address.database)?host=\(folder)" }
        return "postgres://\(address.username)@\(address.host ?? "localhost"):\(address.port)/\(address.database)"
    }

    @Test("a folder without a community is refused, and the database is not touched")
    func refuseMissingSource() async throws {
        let address = try await freshTestDatabase()
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("commune-empty-\(UUIDString.random().value)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let store = PostgresStore(address: address, logger: Self.logger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            await #expect {
                _ = try await StoreMigration(source: empty, destination: store).run()
            } throws: { error in
                "\(error)" == "No community in \(empty.path): there is no commune.sqlite there (give --from the data folder of `commune serve --data`)."
            }
        }
        // Not even the schema was made.
        let tables = try await address.withClient(logger: Self.logger) { client in
            var names: [String] = []
            let rows = try await client.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", logger: Self.logger)
            for try await name in rows.decode(String.self) { names.append(name) }
            return names
        }
        #expect(tables == [])
    }

    @Test("a copy taken while the server keeps storing messages is one consistent moment: every message up to one id, no gap")
    func migrateWhileServing() async throws {
        let server = try await TestServer.start()
        defer { try? FileManager.default.removeItem(at: server.directory) }
        let owner = try await server.owner()
        let channel = try #require(try await server.server.store.interactables().first { $0.name == self.general.name && $0.parentID != nil }?.id)
        for _ in 0..<20 { _ = try await owner.connection.sendMessage("before \(self.hostile)", to: self.general) }
        // A member keeps sending (at most 3,000 messages) until the copy has finished; the copy starts after 200.
        let copied = Mutex(false)
        let progress = Mutex(0)
        let sender = Task {
            var sent = 0
            while !copied.withLock({ $0 }) && sent < 3_000 {
                _ = try await owner.connection.sendMessage("during \(sent)", to: self.general)
                sent += 1
                progress.withLock { $0 = sent }
            }
            return sent
        }
        let address = try await freshTestDatabase()
        for _ in 0..<3_000 where progress.withLock({ $0 }) < 200 { try await Task.sleep(for: .milliseconds(10)) }
        try await PostgresStore.withStore(address, logger: Self.logger) { store in
            var migration = StoreMigration(source: server.directory, destination: store)
            migration.batchSize = 50
            let counts = try await migration.run()
            copied.withLock { $0 = true }
            let sent = try await sender.value
            #expect(counts.filter { !$0.matches }.isEmpty, "\(counts)")
            let messages = try #require(counts.first { $0.table == "messages" }?.destination)
            let head = try #require(try await store.lastMessageIDs(channelIDs: [channel])[channel])
            // Dense from 1 to the head: a prefix of what the server stored, never a hole from a half-read batch.
            #expect(messages >= 220 && Int64(messages) == head && messages <= 20 + sent)
            let stored = try await store.messages(channelID: channel, ids: Array(1...head))
            #expect(stored.map(\.messageID) == Array(1...head))
        }
        await owner.connection.close()
        await server.stop()
    }

    @Test("a data folder whose file an older commune wrote is refused until a server has updated it")
    func refuseOlderSchema() async throws {
        let server = try await TestServer.start()
        defer { try? FileManager.default.removeItem(at: server.directory) }
        await server.stop()
        let last = try #require(SQLiteStore.migrationNames.last)
        let queue = try DatabaseQueue(path: server.directory.appendingPathComponent(SQLiteStore.fileName).path)
        try await queue.write { try $0.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = ?", arguments: [last]) }
        try queue.close()
        let address = try await freshTestDatabase()
        try await PostgresStore.withStore(address, logger: Self.logger) { store in
            await #expect {
                _ = try await StoreMigration(source: server.directory, destination: store).run()
            } throws: { error in
                "\(error)" == "Cannot copy \(server.directory.appendingPathComponent(SQLiteStore.fileName).path): it was written by an older commune; start `commune serve --data \(server.directory.path)` once with this version (it updates the file), stop it, then migrate."
            }
            let members = try await store.members()
            #expect(members.isEmpty)
        }
    }

    /// The database's community as the store reads it (members, settings, the newest messages, groups, invites).
    static func snapshot(_ store: PostgresStore) async throws -> String {
        let members = try await store.members().map { "\($0.id.value) \($0.username)" }.sorted()
        var messages: [String] = []
        for node in try await store.interactables() {
            messages += try await store.messages(channelID: node.id, before: nil, skip: 0, limit: 100).map { "\(node.id) \($0.messageID) \($0.text)" }
        }
        let groups = try await store.groups().map(\.name).sorted()
        let invites = try await store.invites().map(\.code)
        let settings = try await store.settings().sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return (members + messages + groups + invites + settings).joined(separator: "\n")
    }
}
