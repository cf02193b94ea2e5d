import CommuneClient
import CommuneCore
import CommuneProtocol
import Testing

/// Pins over real connections: pinned and unpinned live for the channel's viewers, the list, the permission and the
/// limit, each refusal with its exact code and the list unchanged.
@Suite("Pins")
struct PinTests {
    let general = ChannelAddress(path: "General", name: "General")

    func pin(_ client: Client, _ message: Int64, pinning: Bool = true) async throws -> FunctionResult {
        try await client.connection.call(
            pinning ? TextFunction.pinMessage : TextFunction.unpinMessage, on: self.general, payload: ["message_id": .int(message)]
        )
    }

    func pinned(_ client: Client) async throws -> [Int64] {
        let list = try await client.connection.call(TextFunction.getPins, on: self.general)
        return (list.payload["pins"]?.arrayValue ?? []).compactMap { $0["message_id"]?.intValue }
    }

    @Test("a moderator pins and unpins live for everyone; the list is newest first with the message and who pinned")
    func pinAndUnpin() async throws {
        let server = try await TestServer.start()
        let moderator = try await server.member("mod", group: "moderator")
        let carol = try await server.member("carol")
        let first = try await carol.connection.sendMessage("pin me", to: self.general).messageID
        let second = try await carol.connection.sendMessage("and me", to: self.general).messageID
        let reply = try await self.pin(moderator, first)
        #expect(reply.result == TextFunction.pinChanged && reply.payload["pinned"] == true)
        let update = try await carol.events.nextUpdate(TextFunction.pinChanged)
        #expect(update.payload["message_id"] == .int(first) && update.payload["pinned"] == true)
        #expect(update.payload["pinned_by"] == .string(moderator.identity.userID.value) && update.payload["pinned_by_name"] == "mod")
        #expect(try ChatMessage(json: try #require(update.payload["message"])).message == "pin me")
        try await Task.sleep(for: .milliseconds(5))
        _ = try await self.pin(moderator, second)
        #expect(try await self.pinned(carol) == [second, first])
        // Pinning again changes nothing: the first pin stays, nobody hears of it.
        #expect(try await self.pin(moderator, first).payload["pinned_by"] == .string(moderator.identity.userID.value))
        _ = try await self.pin(moderator, second, pinning: false)
        var seen = try await carol.events.nextUpdate(TextFunction.pinChanged)
        while seen.payload["pinned"] != false { seen = try await carol.events.nextUpdate(TextFunction.pinChanged) }
        #expect(seen.payload["message_id"] == .int(second))
        #expect(try await self.pinned(carol) == [first])
        await server.stopAndRemove()
    }

    @Test("without pin_messages, or on a missing or removed message, or past 50 pins: the exact error and the list unchanged")
    func refusals() async throws {
        let server = try await TestServer.start()
        let moderator = try await server.member("mod", group: "moderator")
        let carol = try await server.member("carol")
        let message = try await carol.connection.sendMessage("mine", to: self.general).messageID
        _ = try await self.pin(moderator, message)
        let other = try await carol.connection.sendMessage("other", to: self.general).messageID
        await expectError(.forbidden) { _ = try await self.pin(carol, other) }
        await expectError(.forbidden) { _ = try await self.pin(carol, message, pinning: false) }
        #expect(try await self.pinned(carol) == [message])
        let gone = try await carol.connection.sendMessage("gone", to: self.general).messageID
        _ = try await carol.connection.call(TextFunction.removeMessage, on: self.general, payload: ["message_id": .int(gone)])
        await expectError(.notFound) { _ = try await self.pin(moderator, gone) }
        await expectError(.notFound) { _ = try await self.pin(moderator, 999) }
        await expectError(.invalidArgument) {
            _ = try await moderator.connection.call(TextFunction.pinMessage, on: self.general, payload: ["message_id": "1"])
        }
        #expect(try await self.pinned(moderator) == [message])
        // The limit: 50 pins per channel.
        for index in 0..<49 {
            let id = try await carol.connection.sendMessage("filler \(index)", to: self.general).messageID
            _ = try await self.pin(moderator, id)
        }
        #expect(try await self.pinned(carol).count == 50)
        let before = try await self.pinned(carol)
        await expectError(.limitReached) { _ = try await self.pin(moderator, other) }
        #expect(try await self.pinned(carol) == before)
        // A plain member given pin_messages may pin.
        _ = try await self.pin(moderator, message, pinning: false)
        let owner = try await server.owner()
        _ = try await owner.connection.community("update_group", ["group": "member", "changes": [["add": "pin_messages"]]])
        #expect(try await self.pin(carol, other).payload["pinned"] == true)
        await server.stopAndRemove()
    }
}
