import CommuneCore
import CommuneProtocol
import Crypto
import Logging

/// A community on the in-memory store with an owner, a moderator and two plain members: domain tests call its
/// functions directly, with no socket and no file.
struct DomainFixture {
    let store: InMemoryStore
    let community: Community
    let owner: Member
    let moderator: Member
    let alice: Member
    let bob: Member
    /// A second owner and a second moderator, for acting on an equal.
    let owner2: Member
    let moderator2: Member

    static func make(codecs: CodecRegistry = .standard) async throws -> DomainFixture {
        let store = InMemoryStore()
        try await store.setSetting(SettingKey.publicURL, "http://127.0.0.1:1984")
        func add(_ name: String, _ group: String) async throws -> Member {
            let key = Curve25519.KeyAgreement.PrivateKey().publicKey.rawRepresentation
            let member = Member(id: .random(), username: name, publicKey: Array(key), group: group, joinedAt: 1)
            return try await store.registerMember(member, inviteCode: nil, now: 1)
        }
        let owner = try await add("olivia", DefaultGroup.owner)
        let moderator = try await add("mo", "moderator")
        let alice = try await add("alice", DefaultGroup.member)
        let bob = try await add("bob", DefaultGroup.member)
        let owner2 = try await add("otto", DefaultGroup.owner)
        let moderator2 = try await add("maya", "moderator")
        var logger = Logger(label: "commune.domain-test")
        logger.logLevel = .critical
        let community = try await Community.open(store: store, codecs: codecs, logger: logger)
        return DomainFixture(
            store: store, community: community, owner: owner, moderator: moderator, alice: alice, bob: bob, owner2: owner2,
            moderator2: moderator2
        )
    }

    /// Runs `function` as `member` from connection `connection`.
    func call(
        _ member: Member, _ function: String, at address: ChannelAddress = CommunityFunctions.address, codec: String? = nil,
        _ payload: JSONValue = .object([:]), connection: ConnectionID = ConnectionID(1)
    ) async throws(CommuneError) -> Effect {
        let current = self.community.member(member.id) ?? member
        return try await self.community.perform(
            FunctionRequest(codec: codec, address: address, function: function, payload: payload),
            context: FunctionContext(member: current, connection: connection, community: self.community)
        )
    }

    /// What a refused call must leave untouched: members, bans, groups, invites, settings, tree and messages.
    func snapshot() async throws -> String {
        let members = try await self.store.members().sorted { $0.id.value < $1.id.value }
        let nodes = try await self.store.interactables()
        var messages: [StoredMessage] = []
        var pins: [Pin] = []
        for node in nodes {
            messages += try await self.store.messages(channelID: node.id, before: nil, skip: 0, limit: 1_000)
            pins += try await self.store.pins(channelID: node.id)
        }
        return "\(members)|\(try await self.store.bans())|\(try await self.store.groups())|\(try await self.store.invites())|"
            + "\(try await self.store.settings().sorted { $0.key < $1.key })|\(nodes)|\(messages)|\(pins)"
    }
}

let general = ChannelAddress(path: "General", name: "General")
