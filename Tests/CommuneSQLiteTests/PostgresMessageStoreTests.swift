import CommuneCore
import CommuneProtocol
import Foundation
import PostgresNIO
import Testing

@testable import CommunePostgres

/// The PostgreSQL store's message half on a real database (the test cluster): group commit with dense ids per
/// channel, also with two nodes writing one channel, resends, paging, masking, search kept in step, reactions, pins
/// and read state.
@Suite("PostgreSQL store: messages, search, reactions, pins, read state")
struct PostgresMessageStoreTests {
    let picture = AttachmentInfo(attachmentID: "a1", type: "image/png", width: 3, height: 2, size: 99)

    /// Runs `body` with a migrated store on a fresh database of its own.
    func withStore<Result: Sendable>(_ body: (PostgresStore) async throws -> Result) async throws -> Result {
        let address = try await TestPostgres.freshDatabase()
        return try await PostgresStore.withStore(address, logger: TestPostgres.logger, body)
    }

    func search(
        _ store: PostgresStore, _ text: String, in channels: Set<Int64> = [1, 2], author: UUIDString? = nil, cursor: String? = nil,
        limit: Int = 10
    ) async throws -> [SearchHit] {
        try await store.searchMessages(
            MessageSearch(query: try SearchQuery(text), channelIDs: channels, author: author, cursor: cursor, limit: limit)
        )
    }

    @Test("200 concurrent sends over two channels: each acknowledged after commit, ids 1…100 in each channel")
    func concurrentAppends() async throws {
        try await self.withStore { store in
            let sender = UUIDString.random()
            let appended = try await withThrowingTaskGroup(of: AppendedMessage.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        try await store.appendMessage(
                            NewMessage(channelID: Int64(1 + index % 2), senderID: sender, text: "message \(index)", sendTime: Int64(index))
                        )
                    }
                }
                return try await group.reduce(into: [AppendedMessage]()) { $0.append($1) }
            }
            let allNew = appended.allSatisfy(\.isNew)
            #expect(allNew)
            for channel: Int64 in [1, 2] {
                let ids = appended.map(\.message).filter { $0.channelID == channel }.map(\.messageID).sorted()
                #expect(ids == Array(1...100))
                // Every acknowledged message is stored as it was acknowledged.
                let stored = try await store.messages(channelID: channel, before: nil, skip: 0, limit: 200)
                #expect(Set(stored) == Set(appended.map(\.message).filter { $0.channelID == channel }))
            }
        }
    }

    @Test("two nodes sending to one channel at once get dense, unique ids; a resend to the other node is the same message")
    func twoNodes() async throws {
        let address = try await TestPostgres.freshDatabase()
        try await PostgresStore.withStore(address, logger: TestPostgres.logger) { nodeA in
            try await PostgresStore.withStore(address, logger: TestPostgres.logger) { nodeB in
                let alice = UUIDString.random()
                let bob = UUIDString.random()
                let appended = try await withThrowingTaskGroup(of: AppendedMessage.self) { group in
                    for index in 0..<300 {
                        let (node, sender) = index % 2 == 0 ? (nodeA, alice) : (nodeB, bob)
                        group.addTask {
                            try await node.appendMessage(
                                NewMessage(channelID: 7, senderID: sender, text: "hello \(index)", sendTime: Int64(index), senderNumber: Int64(index))
                            )
                        }
                    }
                    // The same message (sender and number) sent to both nodes at the same moment, ten times over.
                    for number in 1_000..<1_010 {
                        for node in [nodeA, nodeB] {
                            group.addTask {
                                try await node.appendMessage(
                                    NewMessage(channelID: 7, senderID: alice, text: "twice \(number)", sendTime: 5, senderNumber: Int64(number))
                                )
                            }
                        }
                    }
                    return try await group.reduce(into: [AppendedMessage]()) { $0.append($1) }
                }
                let new = appended.filter(\.isNew).map(\.message)
                #expect(new.count == 310)
                #expect(new.map(\.messageID).sorted() == Array(1...310))
                for number in 1_000..<1_010 {
                    let both = appended.filter { $0.message.text == "twice \(number)" }
                    #expect(both.count == 2 && both.filter(\.isNew).count == 1 && Set(both.map(\.message)).count == 1)
                }
                let stored = try await nodeB.messages(channelID: 7, before: nil, skip: 0, limit: 1_000)
                #expect(stored.count == 310 && Set(stored) == Set(new))
            }
        }
    }

    @Test(
        "two nodes' messages carry their stream records in their own transactions: one record per new message, positions dense and in commit order beside other appends; a resend appends none"
    )
    func streamRecordsInTheMessagesTransaction() async throws {
        let address = try await TestPostgres.freshDatabase()
        try await PostgresStore.withStore(address, logger: TestPostgres.logger) { nodeA in
            try await PostgresStore.withStore(address, logger: TestPostgres.logger) { nodeB in
                let stream = PostgresClusterStream(store: nodeA)
                let start = try await stream.head()
                let sender = UUIDString.random()
                // The record names the message as stored: its channel and the id the transaction gave it.
                let record: @Sendable (String) -> @Sendable (StoredMessage) -> [ClusterRecord] = { node in
                    { stored in [ClusterRecord(origin: node, kind: .event("\(stored.channelID)/\(stored.messageID) \(stored.text)"))] }
                }
                let appended = try await withThrowingTaskGroup(of: AppendedMessage?.self) { group in
                    for index in 0..<200 {
                        let (node, name) = index % 2 == 0 ? (nodeA, "a") : (nodeB, "b")
                        group.addTask {
                            try await node.appendMessage(
                                NewMessage(channelID: Int64(1 + index % 3), senderID: sender, text: "m\(index)", sendTime: 1, senderNumber: Int64(index + 1)),
                                records: record(name)
                            )
                        }
                    }
                    // Appends of other records (a node's writer) at the same time.
                    for index in 0..<20 {
                        group.addTask {
                            try await PostgresClusterStream(store: nodeB).append([ClusterRecord(origin: "w", kind: .event("other \(index)"))])
                            return nil
                        }
                    }
                    return try await group.reduce(into: [AppendedMessage]()) { all, one in if let one { all.append(one) } }
                }
                #expect(appended.count == 200 && appended.allSatisfy(\.isNew))
                let records = try await stream.records(after: start, limit: 1_000)
                #expect(records.map(\.position) == Array((start + 1)...(start + 220)))
                let bodies = records.compactMap { record -> String? in
                    guard case .event(let body) = record.kind, !body.hasPrefix("other ") else { return nil }
                    return body
                }
                #expect(Set(bodies) == Set(appended.map { "\($0.message.channelID)/\($0.message.messageID) \($0.message.text)" }))
                #expect(bodies.count == 200)
                // Commit order: in each channel the ids come in the stream in the order they were given.
                for channel in 1...3 {
                    let ids = bodies.filter { $0.hasPrefix("\(channel)/") }.compactMap { Int64($0.dropFirst(2).prefix { $0 != " " }) }
                    #expect(ids == ids.sorted() && ids.count == Set(ids).count)
                }
                // A resend (the sender's number again) is answered with the stored message and appends nothing.
                let resent = try await nodeB.appendMessage(
                    NewMessage(channelID: 1, senderID: sender, text: "m0", sendTime: 2, senderNumber: 1), records: record("b")
                )
                #expect(!resent.isNew)
                #expect(try await stream.head() == start + 220)
            }
        }
    }

    @Test("a resend with the sender's number returns the earlier message, in another batch or in the same one")
    func resend() async throws {
        try await self.withStore { store in
            let alice = UUIDString.random()
            let bob = UUIDString.random()
            let first = try await store.appendMessage(NewMessage(channelID: 1, senderID: alice, text: "hi", sendTime: 1, senderNumber: 1))
            #expect(first.isNew && first.message.messageID == 1)
            let again = try await store.appendMessage(NewMessage(channelID: 1, senderID: alice, text: "hi (resent)", sendTime: 2, senderNumber: 1))
            #expect(!again.isNew && again.message == first.message)
            // Another sender's number 1 is another message.
            let bobs = try await store.appendMessage(NewMessage(channelID: 1, senderID: bob, text: "yo", sendTime: 3, senderNumber: 1))
            #expect(bobs.isNew && bobs.message.messageID == 2)
            // Many copies of one new message sent at once (so that some share a batch): one is stored.
            let copies = try await withThrowingTaskGroup(of: AppendedMessage.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await store.appendMessage(NewMessage(channelID: 1, senderID: alice, text: "burst", sendTime: 4, senderNumber: 2))
                    }
                }
                return try await group.reduce(into: [AppendedMessage]()) { $0.append($1) }
            }
            #expect(copies.filter(\.isNew).count == 1 && Set(copies.map(\.message)).count == 1 && copies[0].message.messageID == 3)
            #expect(try await store.messages(channelID: 1, before: nil, skip: 0, limit: 10).map(\.messageID) == [3, 2, 1])
        }
    }

    @Test("messages copied in without a channel head (a migration) are continued from the newest, not collided with")
    func copiedMessages() async throws {
        try await self.withStore { store in
            let sender = UUIDString.random()
            try await store.client.query(
                "INSERT INTO messages (channel_id, message_id, sender_id, body, send_time) SELECT 5, g, \(sender.value), 'old', g FROM generate_series(1, 40) g",
                logger: TestPostgres.logger
            )
            let next = try await store.appendMessage(NewMessage(channelID: 5, senderID: sender, text: "new", sendTime: 41))
            #expect(next.isNew && next.message.messageID == 41)
            #expect(try await store.lastMessageIDs(channelIDs: [5]) == [5: 41])
        }
    }

    @Test("pages newest first by id: before, skip and limit; a page of ids; one message; the fields kept")
    func paging() async throws {
        try await self.withStore { store in
            let sender = UUIDString.random()
            let friend = UUIDString.random()
            for index in 1...30 {
                _ = try await store.appendMessage(
                    NewMessage(
                        channelID: 3, senderID: sender, text: "line \(index)", sendTime: Int64(index), attachments: index == 5 ? [self.picture] : [],
                        replyTo: index == 6 ? 5 : nil, mentions: index == 7 ? [friend] : [], mentionsEveryone: index == 8
                    )
                )
            }
            #expect(try await store.messages(channelID: 3, before: nil, skip: 0, limit: 5).map(\.messageID) == [30, 29, 28, 27, 26])
            #expect(try await store.messages(channelID: 3, before: 10, skip: 0, limit: 3).map(\.messageID) == [9, 8, 7])
            #expect(try await store.messages(channelID: 3, before: 10, skip: 2, limit: 3).map(\.messageID) == [7, 6, 5])
            #expect(try await store.messages(channelID: 3, before: nil, skip: 28, limit: 5).map(\.messageID) == [2, 1])
            #expect(try await store.messages(channelID: 3, before: 2, skip: 1, limit: 5).isEmpty)
            #expect(try await store.messages(channelID: 4, before: nil, skip: 0, limit: 5).isEmpty)
            #expect(Set(try await store.messages(channelID: 3, ids: [2, 5, 99]).map(\.messageID)) == [2, 5])
            #expect(try await store.messages(channelID: 3, ids: []).isEmpty)
            let five = try #require(try await store.message(channelID: 3, messageID: 5))
            #expect(five.attachments == [self.picture] && five.senderID == sender && five.text == "line 5" && five.sendTime == 5 && !five.edited)
            #expect(try await store.message(channelID: 3, messageID: 6)?.replyTo == 5)
            #expect(try await store.message(channelID: 3, messageID: 7)?.mentions == [friend])
            #expect(try await store.message(channelID: 3, messageID: 8)?.mentionsEveryone == true)
            #expect(try await store.message(channelID: 3, messageID: 31) == nil)
        }
    }

    @Test("an edit keeps the slot and marks it edited; a removal masks the sender, attachments and mentions")
    func masking() async throws {
        try await self.withStore { store in
            let alice = UUIDString.random()
            let bob = UUIDString.random()
            _ = try await store.appendMessage(
                NewMessage(channelID: 1, senderID: alice, text: "look @bob", sendTime: 1, attachments: [self.picture], mentions: [bob], mentionsEveryone: true)
            )
            _ = try await store.appendMessage(NewMessage(channelID: 1, senderID: alice, text: "second", sendTime: 2))
            #expect(try await store.mentionCounts(memberID: bob, after: [1: 0]) == [1: 1])
            try await store.updateMessage(channelID: 1, messageID: 1, text: "look again", senderID: alice, mentions: [bob], everyone: true)
            let edited = try #require(try await store.message(channelID: 1, messageID: 1))
            #expect(edited.edited && edited.text == "look again" && edited.attachments == [self.picture] && edited.mentions == [bob] && edited.mentionsEveryone)
            try await store.updateMessage(channelID: 1, messageID: 1, text: "look", senderID: alice, mentions: [], everyone: false)
            #expect(try await store.mentionCounts(memberID: bob, after: [1: 0]) == [1: 0])
            try await store.updateMessage(channelID: 1, messageID: 1, text: "look @bob", senderID: alice, mentions: [bob], everyone: false)
            #expect(try await store.mentionCounts(memberID: bob, after: [1: 0]) == [1: 1])
            try await store.updateMessage(channelID: 1, messageID: 1, text: "", senderID: nil, mentions: [], everyone: false)
            let removed = try #require(try await store.message(channelID: 1, messageID: 1))
            #expect(removed.senderID == nil && removed.text == "" && !removed.edited && removed.attachments.isEmpty)
            #expect(removed.mentions.isEmpty && !removed.mentionsEveryone)
            #expect(try await store.mentionCounts(memberID: bob, after: [1: 0]) == [1: 0])
            // The slot stays: ids stay dense.
            #expect(try await store.messages(channelID: 1, before: nil, skip: 0, limit: 5).map(\.messageID) == [2, 1])
            #expect(try await store.appendMessage(NewMessage(channelID: 1, senderID: bob, text: "third", sendTime: 3)).message.messageID == 3)
        }
    }

    @Test("search: every word whole, case and accents aside, newest first; edits and removals kept in step; pages by cursor")
    func search() async throws {
        try await self.withStore { store in
            let alice = UUIDString.random()
            let bob = UUIDString.random()
            let lines: [(Int64, UUIDString, String)] = [
                (1, alice, "The deploy is done"), (1, bob, "deployment tomorrow"), (2, bob, "DEPLOY again? Café time"),
                (1, alice, "lunch at the café"), (3, alice, "deploy in a channel nobody asked for"),
                (1, bob, "mail bob@example.com or see https://example.org/deploy-notes"),
            ]
            for (index, (channel, sender, text)) in lines.enumerated() {
                _ = try await store.appendMessage(NewMessage(channelID: channel, senderID: sender, text: text, sendTime: Int64(100 + index)))
            }
            let texts: ([SearchHit]) -> [String] = { $0.map(\.message.text) }
            #expect(texts(try await self.search(store, "deploy")) == [lines[5].2, "DEPLOY again? Café time", "The deploy is done"])
            #expect(texts(try await self.search(store, "CAFE")) == ["lunch at the café", "DEPLOY again? Café time"])
            #expect(texts(try await self.search(store, "café deploy")) == ["DEPLOY again? Café time"])
            #expect(try await self.search(store, "deploy tomorrow").isEmpty)
            #expect(texts(try await self.search(store, "deploy", in: [3])) == ["deploy in a channel nobody asked for"])
            #expect(texts(try await self.search(store, "deploy", author: alice)) == ["The deploy is done"])
            // Punctuation separates words as SearchQuery reads them: parts of addresses are words.
            #expect(texts(try await self.search(store, "example notes")) == [lines[5].2])
            #expect(try await self.search(store, "deployment tomorrow").count == 1)

            // Paging: newest first, no repeats, to the end.
            let first = try await self.search(store, "deploy", limit: 2)
            #expect(first.count == 2)
            let rest = try await self.search(store, "deploy", cursor: first.last?.cursor, limit: 2)
            #expect(texts(first + rest) == texts(try await self.search(store, "deploy")))
            await #expect(throws: SearchCursorError.self) { try await self.search(store, "deploy", cursor: "12x") }

            // An edit is found by its new words only; a removal never.
            try await store.updateMessage(channelID: 1, messageID: 1, text: "The rollout is done", senderID: alice, mentions: [], everyone: false)
            #expect(try await self.search(store, "rollout").map(\.message.messageID) == [1])
            #expect(!texts(try await self.search(store, "deploy")).contains("The deploy is done"))
            try await store.updateMessage(channelID: 2, messageID: 1, text: "", senderID: nil, mentions: [], everyone: false)
            #expect(texts(try await self.search(store, "café")) == ["lunch at the café"])
            try await store.updateMessage(channelID: 1, messageID: 3, text: "lunch at the café", senderID: nil, mentions: [], everyone: false)
            #expect(try await self.search(store, "lunch").isEmpty)
        }
    }

    @Test("hostile search text is searched as words and never an SQL or tsquery error; hostile message text is found")
    func hostileSearch() async throws {
        try await self.withStore { store in
            let sender = UUIDString.random()
            let bidi = "evil\u{202E}txt.exe zero\u{200B}width"
            _ = try await store.appendMessage(NewMessage(channelID: 1, senderID: sender, text: "foo bar & baz | qux", sendTime: 1))
            _ = try await store.appendMessage(NewMessage(channelID: 1, senderID: sender, text: bidi, sendTime: 2))
            _ = try await store.appendMessage(NewMessage(channelID: 1, senderID: sender, text: String(repeating: "long ", count: 800) + "needle", sendTime: 3))
            let hostile = [
                "foo:* & !bar", "'foo' <-> 'bar'", "foo) | (baz", "\\' OR 1=1; DROP TABLE messages; --", "\"foo\" NEAR bar", "qux:A*B",
                "'; SELECT pg_sleep(10); --", "foo\u{0}bar", "baz !!! ((( )))",
            ]
            for text in hostile {
                guard let query = try? SearchQuery(text) else { continue }
                _ = try await store.searchMessages(MessageSearch(query: query, channelIDs: [1], limit: 10))
            }
            #expect(try await self.search(store, "foo:* & !bar", in: [1]).map(\.message.messageID) == [1])
            #expect(try await self.search(store, "\"foo\" NEAR bar", in: [1]).isEmpty)
            #expect(try await self.search(store, "evil", in: [1]).map(\.message.messageID) == [2])
            #expect(try await self.search(store, "needle long", in: [1]).map(\.message.messageID) == [3])
            // A 100 KB query is refused before any store sees it; the messages are all still there.
            #expect(throws: CommuneError.self) { try SearchQuery(String(repeating: "a' | b:* ", count: 10_000)) }
            #expect(try await store.messages(channelID: 1, before: nil, skip: 0, limit: 10).count == 3)
        }
    }

    @Test("reactions hold their limits and counts under concurrent adds; pins hold their limit")
    func reactionsAndPins() async throws {
        try await self.withStore { store in
            let members = (0..<12).map { _ in UUIDString.random() }
            let limits = ReactionLimits(maxPerMessage: 3, maxPerMember: 2)
            let changes = try await withThrowingTaskGroup(of: ReactionChange.self) { group in
                for (index, member) in members.enumerated() {
                    group.addTask {
                        try await store.addReaction(Reaction(channelID: 1, messageID: 1, emoji: "e\(index % 5)", member: member, time: Int64(index)), limits: limits)
                    }
                }
                return try await group.reduce(into: [ReactionChange]()) { $0.append($1) }
            }
            let counts = try await store.reactions(channelID: 1, messageIDs: [1, 2], viewer: members[0])
            let emoji = try #require(counts[1])
            #expect(emoji.count == 3)
            #expect(changes.filter { $0 == .messageFull }.count == 12 - emoji.map(\.count).reduce(0, +))
            #expect(counts[2] == nil)
            let own = try await store.addReaction(Reaction(channelID: 1, messageID: 1, emoji: emoji[0].emoji, member: members[0], time: 99), limits: limits)
            if emoji[0].me { #expect(own == .unchanged(count: emoji[0].count)) }
            let second = Reaction(channelID: 1, messageID: 2, emoji: "👍", member: members[0], time: 5)
            #expect(try await store.addReaction(second, limits: limits) == .changed(count: 1))
            #expect(try await store.addReaction(Reaction(channelID: 1, messageID: 2, emoji: "🎉", member: members[0], time: 6), limits: limits) == .changed(count: 1))
            #expect(try await store.addReaction(Reaction(channelID: 1, messageID: 2, emoji: "🔥", member: members[0], time: 7), limits: limits) == .memberFull)
            #expect(try await store.addReaction(Reaction(channelID: 1, messageID: 2, emoji: "👍", member: members[1], time: 8), limits: limits) == .changed(count: 2))
            #expect(try await store.reactors(channelID: 1, messageID: 2, emoji: "👍", skip: 0, limit: 10) == [members[0], members[1]])
            #expect(try await store.reactors(channelID: 1, messageID: 2, emoji: "👍", skip: 1, limit: 10) == [members[1]])
            #expect(try await store.removeReaction(second) == .changed(count: 1))
            #expect(try await store.removeReaction(second) == .unchanged(count: 1))
            let mine = try await store.reactions(channelID: 1, messageIDs: [2], viewer: members[0])[2]
            #expect(mine == [ReactionCount(emoji: "🎉", count: 1, me: true), ReactionCount(emoji: "👍", count: 1, me: false)])

            let pinner = UUIDString.random()
            let pinned = try await withThrowingTaskGroup(of: PinChange.self) { group in
                for message in 1...6 {
                    group.addTask { try await store.pin(Pin(channelID: 4, messageID: Int64(message), pinnedBy: pinner, time: Int64(message)), limit: 4) }
                }
                return try await group.reduce(into: [PinChange]()) { $0.append($1) }
            }
            #expect(pinned.filter { $0 == .pinned }.count == 4 && pinned.filter { $0 == .full }.count == 2)
            let pins = try await store.pins(channelID: 4)
            #expect(pins.count == 4 && pins.map(\.time) == pins.map(\.time).sorted(by: >))
            let earlier = pins[0]
            #expect(try await store.pin(Pin(channelID: 4, messageID: earlier.messageID, pinnedBy: .random(), time: 99), limit: 4) == .alreadyPinned(earlier))
            #expect(try await store.unpin(channelID: 4, messageID: earlier.messageID))
            #expect(try await !store.unpin(channelID: 4, messageID: earlier.messageID))
            #expect(try await store.pin(Pin(channelID: 4, messageID: 42, pinnedBy: pinner, time: 100), limit: 4) == .pinned)
            #expect(try await store.pins(channelID: 4).first?.messageID == 42)
        }
    }

    @Test("read marks move forward only; newest ids per channel; mention counts skip one's own and removed messages")
    func readState() async throws {
        try await self.withStore { store in
            let alice = UUIDString.random()
            let bob = UUIDString.random()
            for index in 1...5 {
                _ = try await store.appendMessage(
                    NewMessage(channelID: 1, senderID: index == 4 ? bob : alice, text: "m\(index)", sendTime: Int64(index), mentions: index.isMultiple(of: 2) ? [bob] : [], mentionsEveryone: index == 5)
                )
            }
            try await store.saveReadMarks([
                ReadMark(memberID: bob, channelID: 1, messageID: 2), ReadMark(memberID: bob, channelID: 1, messageID: 1),
                ReadMark(memberID: bob, channelID: 9, messageID: 3), ReadMark(memberID: alice, channelID: 1, messageID: 5),
            ])
            try await store.saveReadMarks([ReadMark(memberID: bob, channelID: 9, messageID: 1)])
            #expect(try await store.readMarks(memberID: bob) == [1: 2, 9: 3])
            #expect(try await store.readMarks(memberID: alice) == [1: 5])
            #expect(try await store.lastMessageIDs(channelIDs: [1, 2]) == [1: 5, 2: 0])
            // Unread after 2: message 4 (mentions bob, but his own) and 5 (@everyone): one.
            #expect(try await store.mentionCounts(memberID: bob, after: [1: 2, 2: 0]) == [1: 1, 2: 0])
            #expect(try await store.mentionCounts(memberID: bob, after: [1: 0]) == [1: 2])
            try await store.updateMessage(channelID: 1, messageID: 5, text: "", senderID: nil, mentions: [], everyone: false)
            #expect(try await store.mentionCounts(memberID: bob, after: [1: 0]) == [1: 1])
        }
    }

    /// Durable ingest through `appendMessage` (not a test of speed: it prints the figure and checks only that every
    /// acknowledged message is stored, densely numbered). Runs only with COMMUNE_MEASURE_INGEST set, e.g.
    /// `COMMUNE_MEASURE_INGEST=200x100 swift test --skip-build --filter PostgresMessageStoreTests/ingest`:
    /// SENDERSxMESSAGES, each sender sending its next message once the previous one is acknowledged.
    @Test(
        "durable ingest: acknowledged messages per second with many concurrent senders",
        .enabled(if: ProcessInfo.processInfo.environment["COMMUNE_MEASURE_INGEST"] != nil)
    )
    func ingest() async throws {
        let shape = (ProcessInfo.processInfo.environment["COMMUNE_MEASURE_INGEST"] ?? "").split(separator: "x").compactMap { Int($0) }
        let (senders, each) = shape.count == 2 ? (shape[0], shape[1]) : (200, 100)
        try await self.withStore { store in
            let clock = ContinuousClock()
            let start = clock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<senders {
                    group.addTask {
                        let sender = UUIDString.random()
                        for number in 0..<each {
                            _ = try await store.appendMessage(
                                NewMessage(
                                    channelID: 1, senderID: sender, text: "ingest message \(number) from a sender, about sixty characters long",
                                    sendTime: Int64(number), senderNumber: Int64(number)
                                )
                            )
                        }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = clock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let total = senders * each
            print("PostgreSQL ingest: \(senders) senders x \(each) = \(total) acknowledged messages in \(seconds) s: \(Int(Double(total) / seconds)) messages/s")
            #expect(try await store.lastMessageIDs(channelIDs: [1]) == [1: Int64(total)])
        }
    }
}
