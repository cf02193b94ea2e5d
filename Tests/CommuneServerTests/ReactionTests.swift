import CommuneClient
import CommuneCore
import CommuneProtocol
import Testing

/// Emoji reactions over real connections: live to everyone in the channel, counts with "me" in history, who reacted,
/// the limits, hostile emoji, and a storm of members on one message.
@Suite("Reactions")
struct ReactionTests {
    let general = ChannelAddress(path: "General", name: "General")

    func react(_ client: Client, _ emoji: String, on message: Int64, adding: Bool = true) async throws -> FunctionResult {
        try await client.connection.call(
            adding ? TextFunction.addReaction : TextFunction.removeReaction, on: self.general,
            payload: ["message_id": .int(message), "emoji": .string(emoji)]
        )
    }

    func reactions(_ client: Client, on message: Int64) async throws -> [ReactionCount] {
        try await client.connection.messages(in: self.general).first { $0.messageID == message }?.reactions ?? []
    }

    func counts(_ client: Client, on message: Int64) async throws -> [String: Int64] {
        Dictionary(uniqueKeysWithValues: try await self.reactions(client, on: message).map { ($0.emoji, $0.count) })
    }

    @Test("a reaction reaches the channel live; history has counts and whether I reacted; get_reactors lists who")
    func live() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")
        let message = try await alice.connection.sendMessage("react to me", to: self.general).messageID
        let reply = try await self.react(bob, "👍", on: message)
        #expect(reply.result == TextFunction.reactionChanged && reply.payload["count"] == 1 && reply.payload["added"] == true)
        let update = try await alice.events.nextUpdate(TextFunction.reactionChanged)
        #expect(update.payload["emoji"] == "👍" && update.payload["user_id"] == .string(bob.identity.userID.value) && update.payload["count"] == 1)
        _ = try await self.react(alice, "👍", on: message)
        _ = try await self.react(alice, "🎉", on: message)
        // The same reaction again changes nothing and is pushed to nobody.
        #expect(try await self.react(alice, "🎉", on: message).payload["count"] == 1)
        #expect(try await self.reactions(alice, on: message) == [
            ReactionCount(emoji: "👍", count: 2, me: true), ReactionCount(emoji: "🎉", count: 1, me: true),
        ])
        #expect(try await self.reactions(bob, on: message) == [
            ReactionCount(emoji: "👍", count: 2, me: true), ReactionCount(emoji: "🎉", count: 1, me: false),
        ])
        let reactors = try await bob.connection.call(
            TextFunction.getReactors, on: self.general, payload: ["message_id": .int(message), "emoji": "👍", "amount": 1]
        )
        #expect(reactors.payload["users"]?.arrayValue?.map { $0["username"] } == ["bob"])
        let next = try await bob.connection.call(
            TextFunction.getReactors, on: self.general, payload: ["message_id": .int(message), "emoji": "👍", "loaded": 1]
        )
        #expect(next.payload["users"]?.arrayValue?.map { $0["username"] } == ["alice"])
        // Removing: live to the others, and gone from history.
        let removed = try await self.react(bob, "👍", on: message, adding: false)
        #expect(removed.payload["count"] == 1 && removed.payload["added"] == false)
        var seen = try await alice.events.nextUpdate(TextFunction.reactionChanged)
        while seen.payload["added"] != false { seen = try await alice.events.nextUpdate(TextFunction.reactionChanged) }
        #expect(seen.payload["count"] == 1)
        #expect(try await self.reactions(bob, on: message).first == ReactionCount(emoji: "👍", count: 1, me: false))
        // A removed message shows no reactions, and takes no new ones.
        _ = try await alice.connection.call(TextFunction.removeMessage, on: self.general, payload: ["message_id": .int(message)])
        #expect(try await self.reactions(bob, on: message).isEmpty)
        await expectError(.notFound) { _ = try await self.react(bob, "👍", on: message) }
        await server.stopAndRemove()
    }

    @Test("a banned or removed member's reactions no longer count: history and get_reactors without them")
    func removedMembers() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner("olivia")
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")
        let carol = try await server.member("carol")
        let first = try await alice.connection.sendMessage("react to me", to: self.general).messageID
        let second = try await alice.connection.sendMessage("and to me", to: self.general).messageID
        _ = try await self.react(alice, "👍", on: first)
        _ = try await self.react(bob, "👍", on: first)
        _ = try await self.react(bob, "🎉", on: first)
        _ = try await self.react(bob, "🔥", on: second)
        _ = try await self.react(carol, "🔥", on: second)
        #expect(try await self.counts(alice, on: first) == ["👍": 2, "🎉": 1])
        try await owner.connection.remove(bob.identity.userID, ban: true, reason: "spam")
        // Everyone in the channel is told (member_removed: the signal to read the shown messages again).
        let removed = try await alice.events.nextUpdate("member_removed")
        #expect(removed.payload["user_id"] == .string(bob.identity.userID.value))
        #expect(try await self.reactions(alice, on: first) == [ReactionCount(emoji: "👍", count: 1, me: true)])
        #expect(try await self.counts(alice, on: second) == ["🔥": 1])
        let reactors = try await alice.connection.call(TextFunction.getReactors, on: self.general, payload: ["message_id": .int(first), "emoji": "👍"])
        #expect(reactors.payload["users"]?.arrayValue?.map { $0["username"] } == ["alice"])
        // Removed without a ban: the same.
        try await owner.connection.remove(carol.identity.userID)
        #expect(try await self.counts(alice, on: second).isEmpty)
        await server.stopAndRemove()
    }

    @Test("hostile or malformed emoji, missing or removed messages: the exact error and nothing stored")
    func refusals() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let message = try await alice.connection.sendMessage("target", to: self.general).messageID
        let gone = try await alice.connection.sendMessage("gone", to: self.general).messageID
        _ = try await alice.connection.call(TextFunction.removeMessage, on: self.general, payload: ["message_id": .int(gone)])
        let zwjChain = Array(repeating: "👩", count: 8).joined(separator: "\u{200D}")
        let refused = [
            "", "a", "ok", "👍a", "👍👍", "\u{202E}👍", "👍\u{200B}", "\u{200D}👍", "1", "#", "\u{1F3FB}", "👍\u{FE0E}", "\u{1F1EB}",
            "\u{0007}", zwjChain, String(repeating: "👍", count: 5_000),
        ]
        for emoji in refused {
            await expectError(.invalidArgument) { _ = try await self.react(alice, emoji, on: message) }
            // Nothing stored (and a good request between refusals, which would otherwise close the connection).
            #expect(try await self.reactions(alice, on: message).isEmpty)
        }
        await expectError(.invalidArgument) {
            _ = try await alice.connection.call(TextFunction.addReaction, on: self.general, payload: ["message_id": .int(message), "emoji": 1])
        }
        await expectError(.notFound) { _ = try await self.react(alice, "👍", on: 99) }
        await expectError(.notFound) { _ = try await self.react(alice, "👍", on: gone) }
        #expect(try await self.reactions(alice, on: message).isEmpty)
        // Emoji as keyboards make them are taken.
        let accepted = ["👍", "👍🏽", "1️⃣", "🇫🇷", "👩‍💻", "🏳️‍🌈", "❤️", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "👨‍👩‍👧‍👦"]
        for emoji in accepted {
            #expect(try await self.react(alice, emoji, on: message).payload["count"] == 1, "\(emoji)")
        }
        #expect(try await self.reactions(alice, on: message).map(\.emoji) == accepted)
        await server.stopAndRemove()
    }

    /// Emoji for the limit tests: distinct single emoji, then flags.
    static let manyEmoji: [String] = {
        let single = (0x1F600...0x1F64F).compactMap(Unicode.Scalar.init).map { String(Character($0)) }
        let flags = (0x1F1E6...0x1F1FF).flatMap { a in
            (0x1F1E6...0x1F1FF).map { b in String(String.UnicodeScalarView([Unicode.Scalar(a)!, Unicode.Scalar(b)!])) }
        }
        return single + flags
    }()

    @Test("10,000 reactions from one member: the first 10 count, every other is limit_reached, and nothing else changes")
    func oneMemberFlood() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let mallory = try await server.member("mallory")
        let message = try await alice.connection.sendMessage("flood me", to: self.general).messageID
        _ = try await self.react(alice, "😀", on: message)
        let before = try await self.reactions(alice, on: message)
        let emoji = Self.manyEmoji
        let attempts = 10_000
        // The first 10 (emoji 1 to 10) one after another; then the flood, 64 requests in flight, of emoji never used.
        for index in 1...10 { #expect(try await self.react(mallory, emoji[index], on: message).payload["count"] == 1) }
        var outcomes: [String: Int] = ["ok": 10]
        var next = 10
        while next < attempts {
            let batch = next..<min(next + 64, attempts)
            next = batch.upperBound
            let results = await withTaskGroup(of: String.self) { group in
                for index in batch {
                    let pick = emoji[11 + index % (emoji.count - 11)]
                    group.addTask {
                        do {
                            _ = try await self.react(mallory, pick, on: message)
                            return "ok"
                        } catch let error as CommuneError {
                            return error.code.rawValue
                        } catch {
                            return "\(error)"
                        }
                    }
                }
                var codes: [String] = []
                for await code in group { codes.append(code) }
                return codes
            }
            for code in results { outcomes[code, default: 0] += 1 }
        }
        #expect(outcomes == ["ok": 10, ErrorCode.limitReached.rawValue: attempts - 10])
        let after = try await self.reactions(alice, on: message)
        #expect(after.first == before.first)
        #expect(after.count == 11 && after.dropFirst().allSatisfy { $0.count == 1 && !$0.me })
        // The message's 20 distinct emoji: an 21st is refused for anyone, an existing one is still welcome.
        let bob = try await server.member("bob")
        for index in 0..<9 { _ = try await self.react(bob, emoji[40 + index], on: message) }
        await expectError(.limitReached) { _ = try await self.react(bob, emoji[60], on: message) }
        #expect(try await self.react(bob, "😀", on: message).payload["count"] == 2)
        #expect(try await self.reactions(bob, on: message).count == 20)
        // Still connected: declined requests do not count as malformed ones.
        #expect(try await mallory.connection.messages(in: self.general).count == 1)
        await server.stopAndRemove()
    }

    @Test("a reaction storm: 40 members on one message at once keep the counts exact, live and stored")
    func storm() async throws {
        let server = try await TestServer.start()
        let author = try await server.member("author")
        let message = try await author.connection.sendMessage("storm", to: self.general).messageID
        var members: [Client] = []
        for index in 0..<40 { members.append(try await server.member("m\(index)")) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for member in members {
                group.addTask {
                    _ = try await self.react(member, "🔥", on: message)
                    _ = try await self.react(member, "👍", on: message)
                }
            }
            try await group.waitForAll()
        }
        #expect(try await self.counts(author, on: message) == ["🔥": 40, "👍": 40])
        var fire = Set<String>()
        var highest: Int64 = 0
        for _ in 0..<80 {
            let update = try await author.events.nextUpdate(TextFunction.reactionChanged)
            if update.payload["emoji"] == "🔥" {
                fire.insert(update.payload["user_id"]?.stringValue ?? "")
                highest = max(highest, update.payload["count"]?.intValue ?? 0)
            }
        }
        #expect(fire.count == 40 && highest == 40)
        // Half take theirs back at once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for member in members.prefix(20) {
                group.addTask { _ = try await self.react(member, "🔥", on: message, adding: false) }
            }
            try await group.waitForAll()
        }
        #expect(try await self.counts(author, on: message) == ["🔥": 20, "👍": 40])
        await server.stopAndRemove()
    }
}
