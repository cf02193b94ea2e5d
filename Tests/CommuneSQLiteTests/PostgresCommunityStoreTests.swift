import CommuneCore
import CommuneProtocol
import Foundation
import PostgresNIO
import Testing

@testable import CommunePostgres

/// The PostgreSQL store's community half on a real database (the test cluster): settings, the tree, members and
/// bans, groups, invites, attachments, the audit log and the shared session tokens. Rows the message half owns are
/// written with SQL here, so that what a removal takes with it is checked table by table.
@Suite("PostgreSQL store: settings, tree, members, bans, groups, invites, audit, sessions")
struct PostgresCommunityStoreTests {
    func member(_ name: String, key: UInt8) -> Member {
        Member(id: .random(), username: name, publicKey: [UInt8](repeating: key, count: 32), group: "x", joinedAt: 1)
    }

    /// How many rows `table` holds (`condition` narrows them).
    func count(_ table: String, where condition: String = "true", in store: PostgresStore) async throws -> Int64 {
        let rows = try await store.client.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table) WHERE \(condition)"), logger: TestPostgres.logger)
        for try await count in rows.decode(Int64.self) { return count }
        return 0
    }

    /// Runs `statements`, separated by ";" at the end of a line, one after another.
    func sql(_ statements: String, in store: PostgresStore) async throws {
        for statement in statements.components(separatedBy: ";\n") {
            try await store.client.query(PostgresQuery(unsafeSQL: statement), logger: TestPostgres.logger)
        }
    }

    @Test("a new database holds the default groups and the migrations in order; settings keep hostile text exactly")
    func defaultsAndSettings() async throws {
        try await PostgresStore.withStore(try await TestPostgres.freshDatabase(), logger: TestPostgres.logger) { store in
            try await store.ping()
            #expect(try await store.groups() == Group.defaults)
            #expect(try await store.appliedMigrations() == PostgresSchema.migrations.map(\.name))
            try await store.migrate()
            #expect(try await store.groups() == Group.defaults)

            let hostile = "\u{202E}evil\u{200B}name \u{0007}" + String(repeating: "ü", count: 5_000)
            try await store.setSetting(SettingKey.name, hostile)
            #expect(try await store.settings()[SettingKey.name] == hostile)
            #expect(try await store.setSettingIfAbsent(SettingKey.name, "other") == hostile)
            try await store.setSetting(SettingKey.name, "Plain")
            #expect(try await store.settings() == [SettingKey.name: "Plain"])

            // Four nodes starting at once agree on one private key.
            let keys = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<4 { group.addTask { try await store.setSettingIfAbsent(SettingKey.privateKey, "key\(index)") } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(keys.count == 1)
            #expect(try await store.settings()[SettingKey.privateKey] == keys.first)

            var group = Group(name: "helpers", permissions: [.setTopic, .pinMessages], power: 20)
            try await store.saveGroup(group)
            group.power = 30
            try await store.saveGroup(group)
            try await store.deleteGroup("member")
            #expect(try await store.groups().map(\.name) == ["owner", "moderator", "helpers"])
            #expect(try await store.groups().first { $0.name == "helpers" } == group)
        }
    }

    @Test("refused registrations change nothing: used up, expired, revoked, unknown, the same key in another spelling, the same id, banned")
    func refusals() async throws {
        try await PostgresStore.withStore(try await TestPostgres.freshDatabase(), logger: TestPostgres.logger) { store in
            try await store.createInvite(Invite(code: "one", group: "moderator", usesLeft: 1, expiresAt: nil, createdAt: 0))
            try await store.createInvite(Invite(code: "old", group: "member", usesLeft: 5, expiresAt: 100, createdAt: 0))
            try await store.createInvite(Invite(code: "gone", group: "member", usesLeft: 5, expiresAt: nil, createdAt: 0))
            try await store.createInvite(Invite(code: "more", group: "member", usesLeft: 3, expiresAt: nil, createdAt: 0))
            #expect(try await store.revokeInvite("gone"))
            #expect(try await !store.revokeInvite("never"))
            let alice = try await store.registerMember(self.member("alice", key: 1), inviteCode: "one", now: 10)
            #expect(alice.group == "moderator")

            let refusals: [(code: String, now: Int64, reason: String)] = [
                ("one", 10, "This invite has been used up."), ("old", 100, "This invite has expired."),
                ("gone", 10, "This invite was revoked."), ("nope", 10, "This invite is not known here."),
            ]
            for refusal in refusals {
                await #expect(throws: StoreError.inviteInvalid(refusal.reason)) {
                    try await store.registerMember(self.member("bob", key: 2), inviteCode: refusal.code, now: refusal.now)
                }
            }
            let taken = StoreError.alreadyRegistered("This user id or public key is already a member of this community.")
            // Alice's key with bit 255 set is the same X25519 point.
            var otherSpelling = alice.publicKey
            otherSpelling[31] |= 0x80
            await #expect(throws: taken) {
                try await store.registerMember(Member(id: .random(), username: "mallory", publicKey: otherSpelling, group: "x", joinedAt: 1), inviteCode: "more", now: 10)
            }
            await #expect(throws: taken) {
                try await store.registerMember(Member(id: alice.id, username: "mallory", publicKey: [UInt8](repeating: 9, count: 32), group: "x", joinedAt: 1), inviteCode: "more", now: 10)
            }
            let troll = try await store.registerMember(self.member("troll", key: 7), inviteCode: "more", now: 10)
            let ban = Ban(userID: troll.id, publicKey: troll.publicKey, username: "troll", reason: "spam", bannedBy: alice.id, bannedByName: "alice", time: 5)
            #expect(try await store.removeMember(troll.id, ban: ban, vengeance: false).isEmpty)
            let banned = StoreError.banned("This identity is banned from this community.")
            await #expect(throws: banned) { try await store.registerMember(troll, inviteCode: "more", now: 11) }
            var trollKeyOtherSpelling = troll.publicKey
            trollKeyOtherSpelling[31] |= 0x80
            await #expect(throws: banned) {
                try await store.registerMember(Member(id: .random(), username: "troll2", publicKey: trollKeyOtherSpelling, group: "x", joinedAt: 1), inviteCode: nil, now: 11)
            }

            #expect(try await store.members().map(\.username) == ["alice"])
            let uses = Dictionary(uniqueKeysWithValues: try await store.invites().map { ($0.code, $0.usesLeft) })
            #expect(uses == ["one": 0, "old": 5, "gone": 5, "more": 2])
            #expect(try await store.bans() == [ban])
            #expect(try await store.unban(troll.id))
            #expect(try await !store.unban(troll.id))
            #expect(try await store.registerMember(troll, inviteCode: nil, now: 12).group == "member")
        }
    }

    @Test("twelve registrations at once with a one-use invite: exactly one wins, the others hear it is used up")
    func concurrentRegistrations() async throws {
        try await PostgresStore.withStore(try await TestPostgres.freshDatabase(), logger: TestPostgres.logger) { store in
            try await store.createInvite(Invite(code: "single", group: "member", usesLeft: 1, expiresAt: nil, createdAt: 0))
            let outcomes = await withTaskGroup(of: Result<Member, StoreError>.self) { group in
                for index in 0..<12 {
                    group.addTask {
                        do {
                            return .success(try await store.registerMember(self.member("m\(index)", key: UInt8(index + 1)), inviteCode: "single", now: 5))
                        } catch let error as StoreError {
                            return .failure(error)
                        } catch {
                            return .failure(.inviteInvalid("unexpected: \(error)"))
                        }
                    }
                }
                return await group.reduce(into: [Result<Member, StoreError>]()) { $0.append($1) }
            }
            let winners = outcomes.compactMap { try? $0.get() }
            #expect(winners.count == 1)
            let refusals = outcomes.compactMap { outcome -> StoreError? in
                if case .failure(let error) = outcome { return error }
                return nil
            }
            #expect(refusals == Array(repeating: StoreError.inviteInvalid("This invite has been used up."), count: 11))
            #expect(try await store.members().map(\.id) == winners.map(\.id))
            #expect(try await store.invites().map(\.usesLeft) == [0])

            // One key through two invites at once: one member, the other refused as already registered.
            try await store.createInvite(Invite(code: "a", group: "member", usesLeft: 5, expiresAt: nil, createdAt: 0))
            try await store.createInvite(Invite(code: "b", group: "member", usesLeft: 5, expiresAt: nil, createdAt: 0))
            let twin = self.member("twin", key: 99)
            let pair = await withTaskGroup(of: Bool.self) { group in
                for code in ["a", "b"] {
                    group.addTask {
                        var copy = twin
                        copy.id = .random()
                        do {
                            _ = try await store.registerMember(copy, inviteCode: code, now: 5)
                            return true
                        } catch {
                            return error as? StoreError != StoreError.alreadyRegistered("This user id or public key is already a member of this community.")
                        }
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(pair.filter { $0 }.count == 1 && pair.count == 2)
            #expect(try await store.members().filter { $0.username == "twin" }.count == 1)
            #expect(try await store.invites().map(\.usesLeft).reduce(0, +) == 9)
        }
    }

    @Test("removing a member takes their reactions; vengeance masks their messages, drops their mentions and uploads")
    func removal() async throws {
        try await PostgresStore.withStore(try await TestPostgres.freshDatabase(), logger: TestPostgres.logger) { store in
            let mallory = try await store.registerMember(self.member("mallory", key: 9), inviteCode: nil, now: 1)
            let alice = try await store.registerMember(self.member("alice", key: 1), inviteCode: nil, now: 1)
            let kicked = try await store.registerMember(self.member("kicked", key: 3), inviteCode: nil, now: 1)
            try await store.createAttachment(AttachmentInfo(attachmentID: "m1", type: "image/png", width: 1, height: 1, size: 1), uploader: mallory.id, now: 1)
            try await store.createAttachment(AttachmentInfo(attachmentID: "a1", type: "image/webp", width: 4, height: 3, size: 99), uploader: alice.id, now: 1)
            try await self.sql(
                """
                INSERT INTO messages (channel_id, message_id, sender_id, body, send_time, attachments, mentions, edited) VALUES
                    (1, 1, '\(mallory.id.value)', 'spam <@\(alice.id.value)>', 1, '[{"attachment_id":"m1"}]', '\(alice.id.value)', true),
                    (1, 2, '\(alice.id.value)', 'hi', 2, '', '', false);
                INSERT INTO mentions (user_id, channel_id, message_id) VALUES ('\(alice.id.value)', 1, 1);
                INSERT INTO reactions (channel_id, message_id, emoji, user_id, time) VALUES
                    (1, 2, '👍', '\(mallory.id.value)', 1), (1, 2, '👍', '\(kicked.id.value)', 1), (1, 2, '🎉', '\(alice.id.value)', 1)
                """,
                in: store
            )
            #expect(try await store.removeMember(kicked.id, ban: nil, vengeance: false).isEmpty)
            #expect(try await self.count("reactions", where: "user_id = '\(kicked.id.value)'", in: store) == 0)
            #expect(try await store.bans().isEmpty)

            let ban = Ban(userID: mallory.id, publicKey: mallory.publicKey, username: "mallory", reason: "spam", bannedBy: nil, bannedByName: "gone", time: 5)
            #expect(try await store.removeMember(mallory.id, ban: ban, vengeance: true) == ["m1"])
            #expect(try await self.count("messages", where: "sender_id IS NULL AND body = '\(TextFunction.removedText)' AND attachments = '' AND mentions = '' AND NOT edited", in: store) == 1)
            #expect(try await self.count("messages", where: "sender_id = '\(alice.id.value)' AND body = 'hi'", in: store) == 1)
            #expect(try await self.count("mentions", in: store) == 0)
            #expect(try await self.count("reactions", in: store) == 1)
            #expect(try await store.attachment("m1") == nil)
            let kept = try #require(try await store.attachment("a1"))
            #expect(kept.uploader == alice.id && kept.info == AttachmentInfo(attachmentID: "a1", type: "image/webp", width: 4, height: 3, size: 99))
            #expect(try await store.members().map(\.username) == ["alice"])
            #expect(try await store.bans() == [ban])
            #expect(try await store.bans().first?.bannedBy == nil)
        }
    }

    @Test("the tree: a sibling's name clash fails the whole call and changes nothing; a removal takes descendants and every row kept per channel")
    func structure() async throws {
        try await PostgresStore.withStore(try await TestPostgres.freshDatabase(), logger: TestPostgres.logger) { store in
            let top = try await store.createInteractables([
                NewInteractable(parentID: nil, name: "Cat", codec: "category", position: 0),
                NewInteractable(parentID: nil, name: "lobby", codec: "text", position: 1, properties: ["topic": "\u{202E}hi\u{200B}"]),
            ])
            let inner = try await store.createInteractables([
                NewInteractable(parentID: top[0].id, name: "a", codec: "text", position: 0),
                NewInteractable(parentID: top[0].id, name: "b", codec: "voice", position: 1),
            ])
            let before = try await store.interactables()
            await #expect(throws: PSQLError.self) {
                try await store.createInteractables([
                    NewInteractable(parentID: top[0].id, name: "c", codec: "text", position: 2),
                    NewInteractable(parentID: top[0].id, name: "a", codec: "text", position: 3),
                ])
            }
            await #expect(throws: PSQLError.self) {
                try await store.createInteractables([NewInteractable(parentID: nil, name: "lobby", codec: "text", position: 2)])
            }
            var clash = inner[1]
            clash.name = "a"
            await #expect(throws: PSQLError.self) { try await store.updateInteractables([clash]) }
            #expect(try await store.interactables() == before)
            #expect(before.first { $0.name == "lobby" }?.properties == ["topic": "\u{202E}hi\u{200B}"])

            // Two siblings trade names in one call.
            try await store.updateInteractables(zip(inner, ["b", "a"]).map { node, name in Interactable(id: node.id, parentID: node.parentID, name: name, codec: node.codec, position: node.position) })
            try await store.setProperties(["topic": "t"], of: inner[0].id)
            let children = try await store.interactables().filter { $0.parentID == top[0].id }
            #expect(children.map(\.name) == ["b", "a"] && children.map(\.properties) == [["topic": "t"], [:]])

            let lobby = top[1].id
            for channel in [inner[0].id, inner[1].id, lobby] {
                try await self.sql(
                    """
                    INSERT INTO messages (channel_id, message_id, body, send_time) VALUES (\(channel), 1, 'x', 1);
                    INSERT INTO channel_heads (channel_id, last_message_id) VALUES (\(channel), 1);
                    INSERT INTO mentions (user_id, channel_id, message_id) VALUES ('', \(channel), 1);
                    INSERT INTO reactions (channel_id, message_id, emoji, user_id, time) VALUES (\(channel), 1, '👍', 'u', 1);
                    INSERT INTO pins (channel_id, message_id, pinned_by, time) VALUES (\(channel), 1, 'u', 1);
                    INSERT INTO read_marks (member_id, channel_id, message_id) VALUES ('u', \(channel), 1)
                    """,
                    in: store
                )
            }
            // The category alone is named: its channels go with it, and everything kept for them.
            try await store.deleteInteractables([top[0].id])
            #expect(try await store.interactables().map(\.name) == ["lobby"])
            for table in PostgresStore.perChannelTables {
                #expect(try await self.count(table, in: store) == 1, "\(table)")
                #expect(try await self.count(table, where: "channel_id = \(lobby)", in: store) == 1, "\(table)")
            }
        }
    }

    @Test("invites list by the time they say they were made (as on every store), the audit log newest first as appended, whatever the clocks said")
    func order() async throws {
        try await PostgresStore.withStore(try await TestPostgres.freshDatabase(), logger: TestPostgres.logger) { store in
            // Three nodes' clocks disagree: the second invite says it was made first, and is listed first.
            for (code, createdAt) in [("first", Int64(300)), ("second", 100), ("third", 200)] {
                try await store.createInvite(Invite(code: code, group: "member", usesLeft: 1, expiresAt: nil, createdAt: createdAt))
            }
            #expect(try await store.invites().map(\.code) == ["second", "third", "first"])
            #expect(try await store.invites().map(\.createdAt) == [100, 200, 300])

            let actor = UUIDString.random()
            let entries = [
                AuditEntry(actorID: actor, actorName: "mo", action: .serverMute, target: UUIDString.random().value, text: "server-muted bob", time: 30),
                AuditEntry(actorID: actor, actorName: "mo", action: .create, target: "General/new", text: "created text 'General/new'", time: 10),
                AuditEntry(actorID: actor, actorName: "mo\u{202E}", action: AuditAction(rawValue: "from_a_newer_server"), target: "", text: "kept", time: 20),
            ]
            for entry in entries { try await store.appendAudit(entry) }
            #expect(try await store.auditLog(limit: 10) == entries.reversed())
            #expect(try await store.auditLog(limit: 2) == [entries[2], entries[1]])
            #expect(try await store.auditLog(limit: 0).isEmpty)
        }
    }

    @Test("sessions: a token works until it expires, on any node; revoking drops a member's tokens; each issue sweeps at most 16 expired")
    func sessions() async throws {
        let address = try await TestPostgres.freshDatabase()
        try await PostgresStore.withStore(address, logger: TestPostgres.logger) { node1 in
            try await PostgresStore.withStore(address, logger: TestPostgres.logger) { node2 in
                let (alice, bob) = (UUIDString.random(), UUIDString.random())
                let now = UnixTime.nowMilliseconds()
                try await node1.issue("token-a", for: alice, expiresAt: now + 60_000)
                try await node1.issue("token-a2", for: alice, expiresAt: now + 60_000)
                try await node1.issue("token-b", for: bob, expiresAt: now + 100_000)
                #expect(try await node2.member(forToken: "token-a", now: now) == alice)
                #expect(try await node2.member(forToken: "token-b", now: now + 99_999) == bob)
                #expect(try await node2.member(forToken: "token-b", now: now + 100_000) == nil)
                #expect(try await node2.member(forToken: "nope", now: now) == nil)
                // The database holds hashes only.
                #expect(try await self.count("sessions", where: "position('token-a' IN encode(token_hash, 'escape')) > 0", in: node1) == 0)

                try await node2.revokeAll(of: alice)
                #expect(try await node1.member(forToken: "token-a", now: now) == nil)
                #expect(try await node1.member(forToken: "token-a2", now: now) == nil)
                #expect(try await node1.member(forToken: "token-b", now: now) == bob)

                try await self.sql(
                    "INSERT INTO sessions (token_hash, member_id, expires_at) SELECT sha256(i::text::bytea), 'x', \(now - 10) FROM generate_series(1, 100) AS i",
                    in: node1
                )
                #expect(try await node1.sessionCount() == 101)
                try await node1.issue("token-c", for: bob, expiresAt: now + 60_000)
                #expect(try await node1.sessionCount() == 101 + 1 - 16)
                for index in 0..<6 { try await node2.issue("more-\(index)", for: bob, expiresAt: now + 60_000) }
                // 84 expired were left: five issues sweep 16 each, the sixth the last 4.
                #expect(try await node1.sessionCount() == 1 + 1 + 6)
                #expect(try await node1.member(forToken: "token-c", now: now) == bob)
            }
        }
    }

    @Test("a full disk on PostgreSQL (SQLSTATE 53100) is storageFull, and the refused registration changes nothing")
    func diskFull() async throws {
        try await PostgresStore.withStore(try await TestPostgres.freshDatabase(), logger: TestPostgres.logger) { store in
            try await store.createInvite(Invite(code: "in", group: "member", usesLeft: 2, expiresAt: nil, createdAt: 0))
            // The error PostgreSQL raises when it cannot extend a file, raised by a trigger on the members table.
            try await self.sql(
                """
                CREATE FUNCTION full_disk() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$;
                CREATE TRIGGER full_disk BEFORE INSERT ON members FOR EACH ROW EXECUTE FUNCTION full_disk()
                """,
                in: store
            )
            await #expect(throws: StoreError.storageFull) {
                try await store.registerMember(self.member("alice", key: 1), inviteCode: "in", now: 1)
            }
            #expect(try await store.members().isEmpty)
            #expect(try await store.invites().map(\.usesLeft) == [2])
            try await self.sql("DROP TRIGGER full_disk ON members", in: store)
            #expect(try await store.registerMember(self.member("alice", key: 1), inviteCode: "in", now: 1).group == "member")
        }
    }
}
