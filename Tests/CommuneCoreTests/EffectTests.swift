import CommuneCore
import CommuneProtocol
import Logging
import Synchronization
import Testing

/// What handlers decide, read straight from their effects on the in-memory store: replies, updates with their
/// audiences, disconnects, and how audiences resolve to members.
@Suite("Effects and audiences")
struct EffectTests {
    @Test("a message is acknowledged to its sender and goes live to the channel's other viewers")
    func sendMessage() async throws {
        let fixture = try await DomainFixture.make()
        let channel = try #require(fixture.community.interactable(at: general))
        let effect = try await fixture.call(
            fixture.alice, TextFunction.sendMessage, at: general, ["message": "hello"], connection: ConnectionID(42)
        )
        #expect(effect.reply.result == TextFunction.messageReceived)
        #expect(effect.reply.payload["message_id"] == .int(1))
        #expect(effect.updates.count == 1)
        let update = try #require(effect.updates.first)
        #expect(update.result.result == TextFunction.messageLive)
        #expect(update.result.payload["message"] == "hello")
        #expect(update.audience == Audience.viewers(ofChannel: channel.id).excluding(ConnectionID(42)))
        #expect(effect.disconnects.isEmpty)
        #expect(try await fixture.store.messages(channelID: channel.id, before: nil, skip: 0, limit: 5).map(\.text) == ["hello"])
    }

    @Test("a resend under the same number is answered again, stores nothing, and pushes the same message_live again")
    func resend() async throws {
        let fixture = try await DomainFixture.make()
        let first = try await fixture.call(fixture.alice, TextFunction.sendMessage, at: general, ["message": "once", "number": 3])
        let again = try await fixture.call(fixture.alice, TextFunction.sendMessage, at: general, ["message": "once", "number": 3])
        #expect(first.reply == again.reply)
        // The first message_live may never have left a node that stopped: clients apply it by message_id.
        #expect(again.updates.map(\.result) == first.updates.map(\.result))
        #expect(again.updates.map(\.audience) == first.updates.map(\.audience))
        let channel = try #require(fixture.community.interactable(at: general))
        #expect(try await fixture.store.messages(channelID: channel.id, before: nil, skip: 0, limit: 5).map(\.text) == ["once"])
    }

    @Test("a ban closes the member's connections and tells everyone")
    func ban() async throws {
        let fixture = try await DomainFixture.make()
        let effect = try await fixture.call(fixture.moderator, "ban", ["user_id": .string(fixture.bob.id.value), "reason": "spam"])
        #expect(effect.disconnects == [Disconnect(member: fixture.bob.id, reason: "banned")])
        #expect(effect.updates.map(\.audience) == [.community])
        #expect(effect.updates.first?.result.result == "member_removed")
        #expect(fixture.community.member(fixture.bob.id) == nil)
    }

    @Test("structure changes reply to the caller and push the whole tree to the community")
    func structure() async throws {
        let fixture = try await DomainFixture.make()
        let effect = try await fixture.call(
            fixture.owner, StructureFunctions.create, at: ChannelAddress(path: "", name: "Lobby"), ["codec": .string(TextFunction.codec)]
        )
        #expect(effect.reply.result == StructureFunctions.created)
        #expect(effect.updates.map(\.result.result) == [CommunityFunctions.treeChanged])
        #expect(effect.updates.map(\.audience) == [.community])
        #expect(fixture.community.interactable(at: ChannelAddress(path: "", name: "Lobby"))?.codec == TextFunction.codec)
    }

    @Test("audiences resolve: permission holders, one member, one connection, everyone")
    func recipients() async throws {
        let fixture = try await DomainFixture.make()
        let community = fixture.community
        #expect(community.recipients(of: .community) == .everyone)
        #expect(community.recipients(of: .member(fixture.alice.id)) == .members([fixture.alice.id]))
        #expect(community.recipients(of: .connection(ConnectionID(9))) == .connection(ConnectionID(9)))
        // Owners hold every permission; the default moderators hold ban_users but not manage_channels.
        let banners = community.recipients(of: .holders(of: .banUsers))
        #expect(banners == .members([fixture.owner.id, fixture.owner2.id, fixture.moderator.id, fixture.moderator2.id]))
        #expect(community.recipients(of: .holders(of: .manageChannels)) == .members([fixture.owner.id, fixture.owner2.id]))
        #expect(banners.includes(member: fixture.moderator.id, connection: ConnectionID(1)))
        #expect(!banners.includes(member: fixture.alice.id, connection: ConnectionID(1)))
        #expect(Recipients.connection(ConnectionID(2)).includes(member: fixture.alice.id, connection: ConnectionID(2)))
        #expect(!Recipients.connection(ConnectionID(2)).includes(member: fixture.alice.id, connection: ConnectionID(3)))
    }

    @Test("a group change moves who holds a permission at once")
    func holdersFollowGroups() async throws {
        let fixture = try await DomainFixture.make()
        _ = try await fixture.call(
            fixture.owner, CommunityFunctions.updateGroup, ["group": "member", "changes": [["add": "ban_users"]]]
        )
        guard case .members(let holders) = fixture.community.recipients(of: .holders(of: .banUsers)) else {
            Issue.record("expected members")
            return
        }
        #expect(holders.contains(fixture.alice.id) && holders.contains(fixture.bob.id))
    }
}

@Suite("Codec registry")
struct CodecRegistryTests {
    @Test("the default tree comes from the codecs' default nodes, parents first")
    func defaultTree() async throws {
        let fixture = try await DomainFixture.make()
        let tree = fixture.community.interactables()
        #expect(tree.map(\.name) == ["General", "Rules"])
        #expect(tree[0].children.map(\.name) == ["General", "VC-1"])
        #expect(tree[0].children.map(\.codec) == [TextFunction.codec, VoiceChannelCodec().name])
    }

    @Test("functions route to their capability; only a message send is pipelined")
    func routing() {
        let registry = CodecRegistry.standard
        #expect(registry.capability(for: TextFunction.sendMessage, codec: TextFunction.codec) != nil)
        #expect(registry.capability(for: TextFunction.sendMessage, codec: LinkCodec().name) == nil)
        #expect(registry.capability(for: StructureFunctions.rename, codec: LinkCodec().name) != nil)
        #expect(registry.capability(for: CommunityFunctions.getMembers, codec: nil) != nil)
        #expect(registry.capability(for: TextFunction.sendMessage, codec: nil) == nil)
        #expect(registry.isPipelined(TextFunction.sendMessage, codec: TextFunction.codec))
        #expect(!registry.isPipelined(TextFunction.getMessages, codec: TextFunction.codec))
        #expect(!registry.isPipelined(CommunityFunctions.getMembers, codec: nil))
    }

    @Test("a server without a codec says so for nodes of it, and still manages their structure")
    func missingCodec() async throws {
        let fixture = try await DomainFixture.make()
        let stripped = try await Community.open(
            store: fixture.store, codecs: CodecRegistry(codecs: [CategoryCodec(), TextChannelCodec()], features: []), logger: .init(label: "t")
        )
        let context = FunctionContext(member: fixture.owner, connection: ConnectionID(1), community: stripped)
        let voice = ChannelAddress(path: "General", name: "VC-1")
        await #expect(throws: CommuneError(.unknownFunction, "This server has no codec 'voice'.")) {
            try await stripped.perform(FunctionRequest(codec: nil, address: voice, function: "set_topic", payload: ["topic": "x"]), context: context)
        }
        _ = try await stripped.perform(
            FunctionRequest(codec: nil, address: voice, function: StructureFunctions.rename, payload: ["new_name": "VC-2"]), context: context
        )
        #expect(stripped.interactable(at: ChannelAddress(path: "General", name: "VC-2")) != nil)
    }

    @Test("the in-memory store tells a pipelining connection when a message is queued")
    func pipelinedSignal() async throws {
        let store = InMemoryStore()
        let signalled = Mutex(false)
        _ = try await PipelinedWrite.withSignal({ signalled.withLock { $0 = true } }) {
            try await store.appendMessage(NewMessage(channelID: 1, senderID: .random(), text: "x", sendTime: 1))
        }
        #expect(signalled.withLock { $0 })
    }
}
