import CommuneCore
import CommuneProtocol
import CoreMetrics
import Foundation
import GRDB
import MetricsTestKit
import PostgresNIO
import Testing

@testable import CommunePostgres
@testable import CommuneSQLite

@Suite("Store contract (SQLite, in-memory and PostgreSQL)")
struct StoreContractTests {
    func member(_ name: String, key: UInt8) -> Member {
        Member(id: .random(), username: name, publicKey: [UInt8](repeating: key, count: 32), group: "x", joinedAt: 1)
    }

    @Test("registering consumes one use and takes the invite's group", arguments: StoreKind.allCases)
    func register(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        try await store.createInvite(Invite(code: "abc", group: "moderator", usesLeft: 2, expiresAt: nil, createdAt: 0))
        let stored = try await store.registerMember(self.member("alice", key: 1), inviteCode: "abc", now: 10)
        #expect(stored.group == "moderator")
        #expect(try await store.invites().first?.usesLeft == 1)
        // Read back by id as written, changes included; an unknown id is nobody.
        var changed = stored
        changed.username = "alice two"
        changed.status = .away
        changed.statusText = "lunch"
        changed.suppressed = true
        try await store.updateMember(changed)
        #expect(try await store.member(stored.id) == changed)
        #expect(try await store.member(.random()) == nil)
    }

    @Test("refused registrations change nothing", arguments: StoreKind.allCases)
    func refusals(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        try await store.createInvite(Invite(code: "one", group: "member", usesLeft: 1, expiresAt: nil, createdAt: 0))
        try await store.createInvite(Invite(code: "old", group: "member", usesLeft: 5, expiresAt: 100, createdAt: 0))
        let alice = self.member("alice", key: 1)
        _ = try await store.registerMember(alice, inviteCode: "one", now: 10)

        await #expect(throws: StoreError.inviteInvalid("This invite has been used up.")) {
            try await store.registerMember(self.member("bob", key: 2), inviteCode: "one", now: 10)
        }
        await #expect(throws: StoreError.inviteInvalid("This invite has expired.")) {
            try await store.registerMember(self.member("bob", key: 2), inviteCode: "old", now: 100)
        }
        await #expect(throws: StoreError.inviteInvalid("This invite is not known here.")) {
            try await store.registerMember(self.member("bob", key: 2), inviteCode: "nope", now: 10)
        }
        try await store.createInvite(Invite(code: "more", group: "member", usesLeft: 3, expiresAt: nil, createdAt: 0))
        var sameKey = self.member("mallory", key: 1)
        await #expect(throws: StoreError.self) { try await store.registerMember(sameKey, inviteCode: "more", now: 10) }
        sameKey = Member(id: alice.id, username: "mallory", publicKey: [UInt8](repeating: 9, count: 32), group: "x", joinedAt: 1)
        await #expect(throws: StoreError.self) { try await store.registerMember(sameKey, inviteCode: "more", now: 10) }

        #expect(try await store.members().map(\.username) == ["alice"])
        let uses = Dictionary(uniqueKeysWithValues: try await store.invites().map { ($0.code, $0.usesLeft) })
        #expect(uses == ["one": 0, "old": 5, "more": 3])
    }

    @Test("concurrent sends get dense, unique ids per channel", arguments: StoreKind.allCases)
    func groupCommit(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        let sender = UUIDString.random()
        let ids = try await withThrowingTaskGroup(of: (Int64, Int64).self) { group in
            for index in 0..<200 {
                group.addTask {
                    let channel: Int64 = index % 2 == 0 ? 1 : 2
                    let stored = try await store.appendMessage(
                        NewMessage(channelID: channel, senderID: sender, text: "m\(index)", sendTime: Int64(index))
                    )
                    return (channel, stored.message.messageID)
                }
            }
            var ids: [Int64: [Int64]] = [:]
            for try await (channel, id) in group { ids[channel, default: []].append(id) }
            return ids
        }
        #expect(ids[1]?.sorted() == Array(1...100))
        #expect(ids[2]?.sorted() == Array(1...100))
    }

    @Test("each message commit reports its duration and the new messages it stored (a resend is not new)", arguments: StoreKind.allCases)
    func commitMetrics(kind: StoreKind) async throws {
        let recorded = TestMetrics()
        let metrics = StoreMetrics(
            messagesStored: Counter(label: StoreMetrics.messagesStoredName, factory: recorded),
            commitDuration: CoreMetrics.Timer(label: StoreMetrics.commitDurationName, factory: recorded)
        )
        let fixture = try await StoreFixture.make(kind, metrics: metrics)
        let sender = UUIDString.random()
        for number in 1...3 {
            _ = try await fixture.store.appendMessage(NewMessage(channelID: 1, senderID: sender, text: "m\(number)", sendTime: 1, senderNumber: Int64(number)))
        }
        let resent = try await fixture.store.appendMessage(NewMessage(channelID: 1, senderID: sender, text: "m3", sendTime: 1, senderNumber: 3))
        #expect(!resent.isNew)
        // One commit per append here: each waited for the previous one.
        let commits = try recorded.expectTimer(StoreMetrics.commitDurationName).values
        #expect(commits.count == 4)
        #expect(commits.allSatisfy { $0 >= 0 })
        #expect(try recorded.expectCounter(StoreMetrics.messagesStoredName).totalValue == 3)
    }

    @Test("history pages newest first, skipping the loaded ones, and honours before", arguments: StoreKind.allCases)
    func paging(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        let sender = UUIDString.random()
        for index in 1...30 {
            _ = try await store.appendMessage(NewMessage(channelID: 7, senderID: sender, text: "m\(index)", sendTime: Int64(index)))
        }
        #expect(try await store.messages(channelID: 7, before: nil, skip: 0, limit: 5).map(\.messageID) == [30, 29, 28, 27, 26])
        #expect(try await store.messages(channelID: 7, before: nil, skip: 5, limit: 5).map(\.messageID) == [25, 24, 23, 22, 21])
        #expect(try await store.messages(channelID: 7, before: nil, skip: 28, limit: 5).map(\.messageID) == [2, 1])
        #expect(try await store.messages(channelID: 7, before: nil, skip: 30, limit: 5).isEmpty)
        #expect(try await store.messages(channelID: 7, before: 10, skip: 0, limit: 3).map(\.messageID) == [9, 8, 7])
        #expect(try await store.messages(channelID: 7, before: 10, skip: 2, limit: 3).map(\.messageID) == [7, 6, 5])
        #expect(try await store.messages(channelID: 8, before: nil, skip: 0, limit: 5).isEmpty)
        let first = try #require(try await store.messages(channelID: 7, before: 2, skip: 0, limit: 1).first)
        #expect(first.text == "m1" && first.senderID == sender && first.sendTime == 1)
    }

    @Test("a sender's number returns the first message instead of storing it twice", arguments: StoreKind.allCases)
    func senderNumbers(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        let sender = UUIDString.random()
        let first = try await store.appendMessage(NewMessage(channelID: 1, senderID: sender, text: "a", sendTime: 1, senderNumber: 7))
        let again = try await store.appendMessage(NewMessage(channelID: 2, senderID: sender, text: "b", sendTime: 2, senderNumber: 7))
        let other = try await store.appendMessage(NewMessage(channelID: 1, senderID: .random(), text: "c", sendTime: 3, senderNumber: 7))
        #expect(first.isNew && !again.isNew && other.isNew)
        #expect(again.message == first.message)
        #expect(other.message.messageID == 2)
        #expect(try await store.messages(channelID: 2, before: nil, skip: 0, limit: 10).isEmpty)
    }

    @Test("a reply keeps the message it answers, in every read; messages are read by ids", arguments: StoreKind.allCases)
    func replies(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        let sender = UUIDString.random()
        _ = try await store.appendMessage(NewMessage(channelID: 4, senderID: sender, text: "question", sendTime: 1))
        let reply = try await store.appendMessage(NewMessage(channelID: 4, senderID: sender, text: "answer", sendTime: 2, senderNumber: 3, replyTo: 1))
        #expect(reply.message.replyTo == 1)
        #expect(try await store.message(channelID: 4, messageID: 2)?.replyTo == 1)
        #expect(try await store.messages(channelID: 4, before: nil, skip: 0, limit: 5).map(\.replyTo) == [1, nil])
        #expect(try await store.appendMessage(NewMessage(channelID: 4, senderID: sender, text: "answer", sendTime: 3, senderNumber: 3)).message.replyTo == 1)
        let read = try await store.messages(channelID: 4, ids: [2, 1, 9, 2]).sorted { $0.messageID < $1.messageID }
        #expect(read.map(\.text) == ["question", "answer"])
        #expect(try await store.messages(channelID: 5, ids: [1]).isEmpty)
        #expect(try await store.messages(channelID: 4, ids: []).isEmpty)
    }

    @Test("reactions: counts per emoji in first-use order with me, limits that change nothing, reactors in order", arguments: StoreKind.allCases)
    func reactions(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        let (alice, bob) = (UUIDString.random(), UUIDString.random())
        let limits = ReactionLimits(maxPerMessage: 3, maxPerMember: 2)
        func reaction(_ emoji: String, _ member: UUIDString, time: Int64, message: Int64 = 1) -> Reaction {
            Reaction(channelID: 9, messageID: message, emoji: emoji, member: member, time: time)
        }
        #expect(try await store.addReaction(reaction("👍", alice, time: 1), limits: limits) == .changed(count: 1))
        #expect(try await store.addReaction(reaction("👍", alice, time: 2), limits: limits) == .unchanged(count: 1))
        #expect(try await store.addReaction(reaction("🎉", bob, time: 3), limits: limits) == .changed(count: 1))
        #expect(try await store.addReaction(reaction("👍", bob, time: 4), limits: limits) == .changed(count: 2))
        #expect(try await store.addReaction(reaction("😀", bob, time: 5), limits: limits) == .memberFull)
        #expect(try await store.addReaction(reaction("😀", alice, time: 6), limits: limits) == .changed(count: 1))
        #expect(try await store.addReaction(reaction("🔥", UUIDString.random(), time: 7), limits: limits) == .messageFull)
        #expect(try await store.addReaction(reaction("🔥", alice, time: 8, message: 2), limits: limits) == .changed(count: 1))
        let found = try await store.reactions(channelID: 9, messageIDs: [1, 2, 3], viewer: bob)
        #expect(found[1] == [
            ReactionCount(emoji: "👍", count: 2, me: true), ReactionCount(emoji: "🎉", count: 1, me: true), ReactionCount(emoji: "😀", count: 1, me: false),
        ])
        #expect(found[2] == [ReactionCount(emoji: "🔥", count: 1, me: false)] && found[3] == nil)
        #expect(try await store.reactors(channelID: 9, messageID: 1, emoji: "👍", skip: 0, limit: 10) == [alice, bob])
        #expect(try await store.reactors(channelID: 9, messageID: 1, emoji: "👍", skip: 1, limit: 10) == [bob])
        #expect(try await store.removeReaction(reaction("👍", alice, time: 9)) == .changed(count: 1))
        #expect(try await store.removeReaction(reaction("👍", alice, time: 9)) == .unchanged(count: 1))
        #expect(try await store.reactions(channelID: 9, messageIDs: [1], viewer: alice)[1]?.first { $0.emoji == "👍" } == ReactionCount(emoji: "👍", count: 1, me: false))
        // A removed channel takes its reactions with it.
        let nodes = try await store.createInteractables([NewInteractable(parentID: nil, name: "Chat", codec: "text", position: 0)])
        let channel = try #require(nodes.first).id
        _ = try await store.addReaction(Reaction(channelID: channel, messageID: 1, emoji: "👍", member: alice, time: 1), limits: limits)
        try await store.deleteInteractables([channel])
        #expect(try await store.reactions(channelID: channel, messageIDs: [1], viewer: alice).isEmpty)
    }

    @Test("pins: newest first, pinning twice keeps the first, the limit changes nothing, unpin says whether it was pinned", arguments: StoreKind.allCases)
    func pins(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        let (alice, bob) = (UUIDString.random(), UUIDString.random())
        #expect(try await store.pin(Pin(channelID: 3, messageID: 1, pinnedBy: alice, time: 10), limit: 2) == .pinned)
        #expect(try await store.pin(Pin(channelID: 3, messageID: 1, pinnedBy: bob, time: 11), limit: 2)
            == .alreadyPinned(Pin(channelID: 3, messageID: 1, pinnedBy: alice, time: 10)))
        #expect(try await store.pin(Pin(channelID: 3, messageID: 2, pinnedBy: bob, time: 12), limit: 2) == .pinned)
        #expect(try await store.pin(Pin(channelID: 3, messageID: 3, pinnedBy: bob, time: 13), limit: 2) == .full)
        #expect(try await store.pin(Pin(channelID: 4, messageID: 3, pinnedBy: bob, time: 13), limit: 2) == .pinned)
        #expect(try await store.pins(channelID: 3).map(\.messageID) == [2, 1])
        #expect(try await store.pins(channelID: 3).last == Pin(channelID: 3, messageID: 1, pinnedBy: alice, time: 10))
        #expect(try await store.unpin(channelID: 3, messageID: 2))
        #expect(try await !store.unpin(channelID: 3, messageID: 2))
        #expect(try await store.pins(channelID: 3).map(\.messageID) == [1])
        #expect(try await store.groups().first { $0.name == "moderator" }?.permissions.contains(.pinMessages) == true)
    }

    @Test("edits mark a message edited; removal masks it, drops attachments and keeps its id", arguments: StoreKind.allCases)
    func editAndRemove(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        let sender = UUIDString.random()
        let picture = AttachmentInfo(attachmentID: "att1", type: "image/png", width: 2, height: 2, size: 10)
        _ = try await store.appendMessage(NewMessage(channelID: 3, senderID: sender, text: "one", sendTime: 1, attachments: [picture]))
        _ = try await store.appendMessage(NewMessage(channelID: 3, senderID: sender, text: "two", sendTime: 2, attachments: [picture]))
        try await store.updateMessage(channelID: 3, messageID: 1, text: "one!", senderID: sender, mentions: [], everyone: false)
        try await store.updateMessage(channelID: 3, messageID: 2, text: TextFunction.removedText, senderID: nil, mentions: [], everyone: false)
        let edited = try #require(try await store.message(channelID: 3, messageID: 1))
        #expect(edited.text == "one!" && edited.edited && edited.attachments == [picture])
        let removed = try #require(try await store.message(channelID: 3, messageID: 2))
        #expect(removed.senderID == nil && !removed.edited && removed.attachments.isEmpty && removed.messageID == 2)
        #expect(try await store.message(channelID: 3, messageID: 3) == nil)
    }

    @Test("removing a member with vengeance masks their messages, forgets their uploads and records the ban", arguments: StoreKind.allCases)
    func vengeance(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        try await store.createInvite(Invite(code: "in", group: "member", usesLeft: 2, expiresAt: nil, createdAt: 0))
        let mallory = try await store.registerMember(self.member("mallory", key: 9), inviteCode: "in", now: 1)
        let alice = try await store.registerMember(self.member("alice", key: 1), inviteCode: "in", now: 1)
        try await store.createAttachment(AttachmentInfo(attachmentID: "m1", type: "image/png", width: 1, height: 1, size: 1), uploader: mallory.id, now: 1)
        _ = try await store.appendMessage(NewMessage(channelID: 1, senderID: mallory.id, text: "spam", sendTime: 1))
        _ = try await store.appendMessage(NewMessage(channelID: 1, senderID: alice.id, text: "hi", sendTime: 2))
        let ban = Ban(userID: mallory.id, publicKey: mallory.publicKey, username: "mallory", reason: "spam", bannedBy: alice.id, bannedByName: "alice", time: 5)
        #expect(try await store.removeMember(mallory.id, ban: ban, vengeance: true) == ["m1"])
        #expect(try await store.messages(channelID: 1, before: nil, skip: 0, limit: 10).map(\.text) == ["hi", TextFunction.removedText])
        #expect(try await store.attachment("m1") == nil)
        #expect(try await store.members().map(\.username) == ["alice"])
        #expect(try await store.member(mallory.id) == nil)
        #expect(try await store.bans() == [ban])
        await #expect(throws: StoreError.banned("This identity is banned from this community.")) {
            try await store.registerMember(mallory, inviteCode: nil, now: 6)
        }
        #expect(try await store.unban(mallory.id))
        #expect(try await !store.unban(mallory.id))
    }

    /// Three members registered with one invite (keys 1, 2 and 3).
    func registered(_ a: String, _ b: String, _ c: String, in store: any CommunityStore) async throws -> (Member, Member, Member) {
        try await store.createInvite(Invite(code: "three", group: "member", usesLeft: 3, expiresAt: nil, createdAt: 0))
        var members: [Member] = []
        for (index, name) in [a, b, c].enumerated() {
            members.append(try await store.registerMember(self.member(name, key: UInt8(index + 1)), inviteCode: "three", now: 1))
        }
        return (members[0], members[1], members[2])
    }

    @Test("a removed or banned member's reactions no longer count; the others' stay", arguments: StoreKind.allCases)
    func removedMembersReactions(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        let (alice, bob, carol) = try await self.registered("alice", "bob", "carol", in: store)
        let limits = ReactionLimits(maxPerMessage: 20, maxPerMember: 10)
        for (member, emoji, message) in [(alice.id, "👍", 1), (bob.id, "👍", 1), (bob.id, "🎉", 1), (bob.id, "🔥", 2), (carol.id, "🔥", 3)] {
            _ = try await store.addReaction(Reaction(channelID: 4, messageID: Int64(message), emoji: emoji, member: member, time: 1), limits: limits)
        }
        let ban = Ban(userID: bob.id, publicKey: bob.publicKey, username: "bob", reason: "", bannedBy: alice.id, bannedByName: "alice", time: 5)
        _ = try await store.removeMember(bob.id, ban: ban, vengeance: false)
        let found = try await store.reactions(channelID: 4, messageIDs: [1, 2, 3], viewer: alice.id)
        #expect(found[1] == [ReactionCount(emoji: "👍", count: 1, me: true)] && found[2] == nil)
        #expect(found[3] == [ReactionCount(emoji: "🔥", count: 1, me: false)])
        #expect(try await store.reactors(channelID: 4, messageID: 1, emoji: "👍", skip: 0, limit: 10) == [alice.id])
        _ = try await store.removeMember(carol.id, ban: nil, vengeance: false)
        #expect(try await store.reactions(channelID: 4, messageIDs: [3], viewer: alice.id).isEmpty)
    }

    @Test("a ban keeps the banning member's id and name; an unknown banner is nil", arguments: StoreKind.allCases)
    func banOrigin(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        let mod = UUIDString.random()
        let troll = try await store.registerMember(self.member("troll", key: 3), inviteCode: nil, now: 1)
        let old = try await store.registerMember(self.member("old", key: 4), inviteCode: nil, now: 1)
        let known = Ban(userID: troll.id, publicKey: troll.publicKey, username: "troll", reason: "", bannedBy: mod, bannedByName: "mod", time: 7)
        let unknown = Ban(userID: old.id, publicKey: old.publicKey, username: "old", reason: "r", bannedBy: nil, bannedByName: "gone", time: 6)
        _ = try await store.removeMember(troll.id, ban: known, vengeance: false)
        _ = try await store.removeMember(old.id, ban: unknown, vengeance: false)
        let bans = try await store.bans()
        #expect(bans == [known, unknown])
        #expect(bans.map(\.bannedBy) == [mod, nil])
        #expect(bans.map(\.bannedByName) == ["mod", "gone"])
    }

    @Test("audit entries keep their action word, target and text, newest first", arguments: StoreKind.allCases)
    func audit(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        let actor = UUIDString.random()
        let target = UUIDString.random()
        let entries = [
            AuditEntry(actorID: actor, actorName: "mo", action: .serverMute, target: target.value, text: "server-muted bob", time: 1),
            AuditEntry(actorID: actor, actorName: "mo", action: .create, target: "General/new", text: "created text 'General/new'", time: 2),
            AuditEntry(actorID: actor, actorName: "mo", action: .communityInfo, target: "", text: "changed the community's name 'X'", time: 3),
            AuditEntry(actorID: actor, actorName: "mo", action: AuditAction(rawValue: "from_a_newer_server"), target: "t", text: "kept", time: 4),
        ]
        for entry in entries { try await store.appendAudit(entry) }
        #expect(try await store.auditLog(limit: 10) == entries.reversed())
        #expect(try await store.auditLog(limit: 2) == [entries[3], entries[2]])
    }

    @Test("structure: siblings keep unique names, removal takes the channel's messages", arguments: StoreKind.allCases)
    func structure(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        let top = try await store.createInteractables([NewInteractable(parentID: nil, name: "Cat", codec: "category", position: 0)])
        let inner = try await store.createInteractables([
            NewInteractable(parentID: top[0].id, name: "a", codec: "text", position: 0),
            NewInteractable(parentID: top[0].id, name: "b", codec: "text", position: 1),
        ])
        await #expect(throws: (any Error).self) {
            try await store.createInteractables([NewInteractable(parentID: top[0].id, name: "a", codec: "text", position: 2)])
        }
        var swapped = inner
        swapped[0].name = "b"
        swapped[1].name = "a"
        try await store.updateInteractables(swapped)
        try await store.setProperties(["topic": "t"], of: inner[0].id)
        let byID = Dictionary(uniqueKeysWithValues: try await store.interactables().map { ($0.id, $0) })
        #expect(byID[inner[0].id]?.name == "b" && byID[inner[1].id]?.name == "a")
        #expect(byID[inner[0].id]?.properties == ["topic": "t"])
        _ = try await store.appendMessage(NewMessage(channelID: inner[0].id, senderID: .random(), text: "x", sendTime: 1))
        try await store.deleteInteractables([inner[0].id])
        #expect(try await store.messages(channelID: inner[0].id, before: nil, skip: 0, limit: 5).isEmpty)
        #expect(try await store.interactables().count == 2)
        #expect(try await store.groups().map(\.name) == Group.defaults.map(\.name))
    }

    @Test(
        "a removed node takes its sub-channels and, for each, messages, mentions, reactions, pins and read marks; vengeance takes the member's mentions",
        arguments: StoreKind.allCases
    )
    func removalsLeaveNothingBehind(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = fixture.store
        let (alice, bob, carol) = try await self.registered("alice", "bob", "carol", in: store)
        let category = try await store.createInteractables([NewInteractable(parentID: nil, name: "Cat", codec: "category", position: 0)])[0].id
        let nodes = try await store.createInteractables([
            NewInteractable(parentID: category, name: "inner", codec: "text", position: 0), NewInteractable(parentID: nil, name: "kept", codec: "text", position: 1),
        ])
        let (inner, kept) = (nodes[0].id, nodes[1].id)
        for channel in [inner, kept] {
            _ = try await store.appendMessage(NewMessage(channelID: channel, senderID: bob.id, text: "@alice", sendTime: 1, mentions: [alice.id]))
            _ = try await store.appendMessage(
                NewMessage(channelID: channel, senderID: carol.id, text: "@alice @everyone", sendTime: 2, mentions: [alice.id], mentionsEveryone: true)
            )
            _ = try await store.addReaction(
                Reaction(channelID: channel, messageID: 1, emoji: "👍", member: alice.id, time: 3), limits: ReactionLimits(maxPerMessage: 5, maxPerMember: 5)
            )
            #expect(try await store.pin(Pin(channelID: channel, messageID: 1, pinnedBy: alice.id, time: 4), limit: 5) == .pinned)
            try await store.saveReadMarks([ReadMark(memberID: alice.id, channelID: channel, messageID: 2)])
        }
        // Only the category is named: its channel goes with it, and everything kept for it.
        try await store.deleteInteractables([category])
        #expect(try await store.interactables().map(\.id) == [kept])
        #expect(try await store.readMarks(memberID: alice.id) == [kept: 2])
        #expect(try await store.messages(channelID: inner, before: nil, skip: 0, limit: 10).isEmpty)
        #expect(try await store.lastMessageIDs(channelIDs: [inner]) == [inner: 0])
        #expect(try await store.pins(channelID: inner).isEmpty)
        #expect(try await store.pins(channelID: kept).count == 1)
        #expect(try await store.reactions(channelID: inner, messageIDs: [1], viewer: alice.id).isEmpty)
        #expect(try await store.reactions(channelID: kept, messageIDs: [1], viewer: alice.id)[1]?.first?.count == 1)
        let keptMentions: Set<String> = ["\(alice.id) \(kept) 1", "\(alice.id) \(kept) 2", " \(kept) 2"]
        #expect(try await fixture.mentionIndex(channels: [inner, kept]) == keptMentions)
        // Carol's masked message mentions nobody any more, in the index too; Bob's keeps his.
        _ = try await store.removeMember(carol.id, ban: nil, vengeance: true)
        #expect(try await fixture.mentionIndex(channels: [inner, kept]) == ["\(alice.id) \(kept) 1"])
        #expect(try await store.mentionCounts(memberID: alice.id, after: [kept: 0]) == [kept: 1])
    }

    @Test("invites list by creation time, then code, whatever order they were written in", arguments: StoreKind.allCases)
    func inviteOrder(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        for (code, createdAt) in [("b", Int64(300)), ("z", 100), ("a", 300), ("m", 200)] {
            try await fixture.store.createInvite(Invite(code: code, group: "member", usesLeft: 1, expiresAt: nil, createdAt: createdAt))
        }
        #expect(try await fixture.store.invites().map(\.code) == ["z", "m", "a", "b"])
    }

    @Test("applied migrations are listed by version number (v12 before v100), as the schema applies them", arguments: [StoreKind.sqlite, .postgres])
    func appliedMigrationsInVersionOrder(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        func applied() async throws -> [String] {
            switch fixture.store {
            case let sqlite as SQLiteStore: try await sqlite.appliedMigrations()
            case let postgres as PostgresStore: try await postgres.appliedMigrations()
            default: []
            }
        }
        let schema = kind == .sqlite ? SQLiteStore.migrator.migrations : PostgresSchema.migrations.map(\.name)
        #expect(try await applied() == schema)
        // Two more, written at one time (as a newer build would apply them in one go): sorted text would put v100 first.
        let table = kind == .sqlite ? "grdb_migrations (identifier)" : "commune_migrations (name)"
        try await fixture.execute("INSERT INTO \(table) VALUES ('v100-newest'), ('v12-newer')")
        #expect(try await applied() == schema + ["v12-newer", "v100-newest"])
        #expect(MigrationOrder.sorted(["v10-x", "v9-y", "notes", "v1"]) == ["v1", "v9-y", "v10-x", "notes"])
    }

    @Test("SQLite: everything survives closing and reopening the file")
    func persistence() async throws {
        let directory = try TemporaryDirectory()
        do {
            let store = try SQLiteStore(directory: directory.url)
            try await store.setSetting("k", "v")
            _ = try await store.appendMessage(NewMessage(channelID: 1, senderID: .random(), text: "kept", sendTime: 5))
        }
        #expect(SQLiteStore.exists(in: directory.url))
        let reopened = try SQLiteStore(directory: directory.url)
        #expect(try await reopened.settings()["k"] == "v")
        #expect(try await reopened.messages(channelID: 1, before: nil, skip: 0, limit: 10).map(\.text) == ["kept"])
        #expect(try await reopened.setSettingIfAbsent("k", "other") == "v")
    }
}
