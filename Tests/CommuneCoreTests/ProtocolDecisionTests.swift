import CommuneCore
import CommuneProtocol
import Testing

/// What PROTOCOL.md decides for cases the code could answer either way: where `tree_changed` is addressed, how a
/// `move` position is clamped, which limits are `too_large` and which `invalid_argument`.
@Suite("Protocol decisions")
struct ProtocolDecisionTests {
    func error(_ body: () async throws(CommuneError) -> Effect) async -> CommuneError? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error
        }
    }

    @Test("tree_changed is addressed at the community; the reply names the node")
    func treeChangedAddress() async throws {
        let fixture = try await DomainFixture.make()
        let effect = try await fixture.call(fixture.owner, "create", at: ChannelAddress(path: "General", name: "news"), ["codec": "text"])
        #expect(effect.reply.address == ChannelAddress(path: "General", name: "news") && effect.reply.codec == "text")
        let update = try #require(effect.updates.first)
        #expect(update.result.result == "tree_changed")
        #expect(update.result.codec == "community" && update.result.address == CommunityFunctions.address)
    }

    @Test("create appends; move clamps a position past the end to last, and refuses a negative one")
    func positions() async throws {
        let fixture = try await DomainFixture.make()
        let top = { fixture.community.interactables().sorted { $0.position < $1.position }.map(\.name) }
        _ = try await fixture.call(fixture.owner, "create", at: ChannelAddress(path: "", name: "News"), ["codec": "text"])
        #expect(top() == ["General", "Rules", "News"])
        _ = try await fixture.call(fixture.owner, "move", at: ChannelAddress(path: "", name: "General"), ["position": 99])
        #expect(top() == ["Rules", "News", "General"])
        _ = try await fixture.call(fixture.owner, "move", at: ChannelAddress(path: "", name: "General"), ["position": 0])
        #expect(top() == ["General", "Rules", "News"])
        let before = try await fixture.snapshot()
        let negative = await self.error { () async throws(CommuneError) -> Effect in
            try await fixture.call(fixture.owner, "move", at: ChannelAddress(path: "", name: "News"), ["position": -1])
        }
        #expect(negative == .invalidArgument("data.payload.position must be 0 or more."))
        #expect(try await fixture.snapshot() == before)
    }

    @Test("free text over its limit is too_large; a name over its limit is invalid_argument")
    func limits() async throws {
        let fixture = try await DomainFixture.make()
        let before = try await fixture.snapshot()
        let status = await self.error { () async throws(CommuneError) -> Effect in
            try await fixture.call(fixture.alice, "set_status", ["status": "away", "text": .string(String(repeating: "s", count: 129))])
        }
        #expect(status?.code == .tooLarge)
        let description = await self.error { () async throws(CommuneError) -> Effect in
            try await fixture.call(fixture.owner, "set_info", ["description": .string(String(repeating: "d", count: 1_001))])
        }
        #expect(description?.code == .tooLarge)
        let username = await self.error { () async throws(CommuneError) -> Effect in
            try await fixture.call(fixture.alice, "set_username", ["username": .string(String(repeating: "u", count: 33))])
        }
        #expect(username?.code == .invalidArgument)
        let group = await self.error { () async throws(CommuneError) -> Effect in
            try await fixture.call(fixture.owner, "create_group", ["group": .string(String(repeating: "g", count: 65))])
        }
        #expect(group?.code == .invalidArgument)
        #expect(try await fixture.snapshot() == before)
    }
}
