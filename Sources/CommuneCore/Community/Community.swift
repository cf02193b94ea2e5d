import CommuneProtocol
import Crypto
import Foundation
import Logging
import Synchronization

/// A running community: its key, its tree, its members, and the functions they call.
///
/// Holds in memory what every request reads (the tree, the members, who is online) and goes to the store for
/// what must be durable. Safe to share across connections.
public final class Community: Sendable {
    public let store: any CommunityStore
    /// The HTTP session tokens handed out at login.
    public let sessions: any SessionStore
    public let configuration: CommunityConfiguration
    public let logger: Logger
    public let codecs: CodecRegistry
    /// Whether the store has room; a full disk is logged once, not per refused write.
    public let storageHealth: StorageHealth
    /// Where uploaded attachments' bytes live; `nil` for tools that run without them.
    public let attachments: AttachmentFiles?
    /// Who is in which voice call, and where their media goes.
    public let calls: Calls
    /// Read marks on their way to the store (written together, at most once a second).
    public let readMarks = ReadMarkBuffer()
    /// The part of the member list each connection shows: who hears of a member's presence and changes.
    public let memberList = MemberListSubscriptions()
    let privateKey: Curve25519.KeyAgreement.PrivateKey
    /// Base64 of the community's X25519 public key, as `challenge` sends it.
    public let publicKey: String

    struct State {
        var info: CommunityInfo
        var tree: InteractableTree
        var members: MemberRoster
        var membersByKey: Set<[UInt8]>
        var onlineConnections: [UUIDString: Int] = [:]
        /// With several nodes: the nodes each member is online on, as the cluster's stream says.
        var clusterOnline: [UUIDString: Set<String>] = [:]
        var groups: [String: Group]
    }

    let state: Mutex<State>
    /// Told of each change to what is kept in memory (``observeCacheChanges(_:)``).
    let cacheObserver = Mutex<(@Sendable (CacheChange) -> Void)?>(nil)
    /// ``streamPublisher``.
    let publisher = Mutex<StreamPublisher?>(nil)

    private init(
        store: any CommunityStore,
        sessions: any SessionStore,
        configuration: CommunityConfiguration,
        logger: Logger,
        codecs: CodecRegistry,
        attachments: AttachmentFiles?,
        callMedia: (any CallMedia)?,
        privateKey: Curve25519.KeyAgreement.PrivateKey,
        state: State
    ) {
        self.attachments = attachments
        self.calls = Calls(media: callMedia)
        self.store = store
        self.sessions = sessions
        self.configuration = configuration
        self.logger = logger
        self.codecs = codecs
        self.storageHealth = StorageHealth(logger: logger)
        self.privateKey = privateKey
        self.publicKey = privateKey.publicKey.base64
        self.state = Mutex(state)
    }

    /// Loads the community from `store`, creating its key pair and default tree on first use.
    public static func open(
        store: any CommunityStore,
        sessions: any SessionStore = InMemorySessionStore(),
        configuration: CommunityConfiguration = .init(),
        codecs: CodecRegistry = .standard,
        attachments: AttachmentFiles? = nil,
        callMedia: (any CallMedia)? = nil,
        logger: Logger
    ) async throws -> Community {
        let privateKey = try await self.loadOrCreateKey(store: store)
        var records = try await store.interactables()
        if records.isEmpty {
            records = try await self.createDefaultTree(store: store, codecs: codecs)
            logger.info("Created the default channel tree")
        }
        let settings = try await store.settings()
        let members = try await store.members()
        let groups = try await store.groups()
        let state = State(
            info: CommunityInfo(settings: settings, defaultName: configuration.defaultName),
            tree: InteractableTree(records),
            members: MemberRoster(members),
            membersByKey: Set(members.map { X25519Key.canonical($0.publicKey) }),
            groups: Dictionary(uniqueKeysWithValues: groups.map { ($0.name, $0) })
        )
        return Community(
            store: store, sessions: sessions, configuration: configuration, logger: logger, codecs: codecs, attachments: attachments, callMedia: callMedia,
            privateKey: privateKey,
            state: state
        )
    }

    static func loadOrCreateKey(store: any CommunityStore) async throws -> Curve25519.KeyAgreement.PrivateKey {
        let candidate = Curve25519.KeyAgreement.PrivateKey().rawRepresentation.base64EncodedString()
        let stored = try await store.setSettingIfAbsent(SettingKey.privateKey, candidate)
        guard let bytes = Data(base64Encoded: stored) else {
            throw CommuneError.internalError("The stored community key is not base64.")
        }
        return try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: bytes)
    }

    /// A new community's tree: every codec's default nodes (the seed's example: category `General` with text
    /// `General` and voice `VC-1`, and text `Rules`), created one level at a time.
    static func createDefaultTree(store: any CommunityStore, codecs: CodecRegistry) async throws -> [Interactable] {
        var created: [Interactable] = []
        var ids: [String: Int64] = [:]
        let levels = Dictionary(grouping: codecs.defaultTree) { ChannelAddress(slashed: $0.node.path)?.pathComponents.count ?? -1 }
        for depth in levels.keys.sorted() {
            let nodes = try levels[depth]!.map { entry throws -> NewInteractable in
                var parentID: Int64?
                if !entry.node.path.isEmpty {
                    guard let id = ids[entry.node.path] else {
                        throw CommuneError.internalError("The default node '\(entry.node.name)' names a missing category '\(entry.node.path)'.")
                    }
                    parentID = id
                }
                return NewInteractable(parentID: parentID, name: entry.node.name, codec: entry.codec, position: entry.node.position)
            }
            let level = try await store.createInteractables(nodes)
            for (entry, record) in zip(levels[depth]!, level) {
                let path = entry.node.path.isEmpty ? entry.node.name : "\(entry.node.path)/\(entry.node.name)"
                ids[path] = record.id
            }
            created += level
        }
        return created
    }

    // MARK: Reading

    public var name: String { self.state.withLock { $0.info.name } }

    public var info: CommunityInfo { self.state.withLock { $0.info } }

    public func member(_ id: UUIDString) -> Member? {
        self.state.withLock { $0.members[id] }
    }

    /// Every member, in username order.
    public func members() -> [Member] {
        self.state.withLock { $0.members.members(in: 0..<$0.members.count) }
    }

    /// The members at places `range` of the list (username order), how many there are, and how many are online.
    public func members(in range: Range<Int>) -> (members: [Member], total: Int, online: Int) {
        self.state.withLock { state in
            (state.members.members(in: range), state.members.count, Self.onlineCount(state))
        }
    }

    /// The members with these ids that exist, in username order, with the counts.
    public func members(_ ids: [UUIDString]) -> (members: [Member], total: Int, online: Int) {
        self.state.withLock { state in
            let found = ids.compactMap { state.members[$0] }.sorted { MemberRoster.ListKey($0) < MemberRoster.ListKey($1) }
            return (found, state.members.count, Self.onlineCount(state))
        }
    }

    /// At most `limit` members whose name starts with `prefix` once both are folded (case and accents aside; see
    /// ``MemberRoster/fold(_:)``), in the order of their folded names, with the counts.
    public func members(startingWith prefix: String, limit: Int) -> (members: [Member], total: Int, online: Int) {
        let folded = MemberRoster.fold(prefix)
        return self.state.withLock { state in
            (state.members.members(startingWith: folded, limit: limit), state.members.count, Self.onlineCount(state))
        }
    }

    /// The `member_counts` update (`changedFrom`: the first place of the list whose member changed since the last).
    public func memberCountsUpdate(total: Int, online: Int, changedFrom: Int? = nil) -> FunctionResult {
        MemberListFeature.counts(total: total, online: online, changedFrom: changedFrom)
    }

    /// How many members there are, and how many of them are online.
    public func memberCounts() -> (total: Int, online: Int) {
        self.state.withLock { ($0.members.count, Self.onlineCount($0)) }
    }

    /// The counts, and the first place of the list whose member changed (a join, a removal or a rename) since the
    /// last call, which it forgets (`nil`: none): what the once-a-second `member_counts` tells.
    public func takeMemberListChange() -> (total: Int, online: Int, changedFrom: Int?) {
        self.state.withLock { ($0.members.count, Self.onlineCount($0), $0.members.takeChangedFrom()) }
    }

    private static func onlineCount(_ state: State) -> Int {
        // With several nodes, the cluster's count holds this node's members too (each presence comes back).
        state.clusterOnline.isEmpty
            ? state.onlineConnections.count
            : state.clusterOnline.count + state.onlineConnections.keys.count { state.clusterOnline[$0] == nil }
    }

    /// The member's place in the list (username order), or `nil` for no member.
    public func listRank(of member: UUIDString) -> Int? {
        self.state.withLock { $0.members.rank(of: member) }
    }

    /// Who hears what the member list says of `member` (presence, a join, a change): the connections that show
    /// their place (and `also`, their place before a rename), and the member's own connections.
    public func listingAudience(of member: UUIDString, also previous: Int? = nil) -> Audience {
        let ranks = [previous, self.listRank(of: member)].compactMap { $0 }
        return .listing(member, ranks: Array(Set(ranks)).sorted())
    }

    /// The permission rules as they stand now.
    public var permissions: PermissionChecker {
        PermissionChecker(groups: self.state.withLock { $0.groups })
    }

    public func isOnline(_ id: UUIDString) -> Bool {
        self.state.withLock { ($0.onlineConnections[id] ?? 0) > 0 || $0.clusterOnline[id] != nil }
    }

    /// The whole tree of interactables in wire form (what the owner sees).
    public func interactables() -> [InteractableNode] {
        let tree = self.state.withLock { $0.tree }
        return tree.wireNodes(holdsChildren: self.codecs.holdsChildren) { record in
            self.codecs[record.codec]?.treeData(for: record, in: self) ?? [:]
        }
    }

    /// The tree of interactables in wire form as `member` sees it: without the nodes they may not see
    /// (``PermissionChecker/canSee(_:_:in:)``).
    public func interactables(for member: Member) -> [InteractableNode] {
        let (tree, checker) = self.state.withLock { ($0.tree, PermissionChecker(groups: $0.groups)) }
        return tree.wireNodes(holdsChildren: self.codecs.holdsChildren, visible: { checker.canSee(member, $0, in: tree) }) { record in
            self.codecs[record.codec]?.treeData(for: record, in: self) ?? [:]
        }
    }

    /// Whether `member` may see the node with `id` now (``PermissionChecker/canSee(_:_:in:)``); `false` when it is gone.
    public func canSee(_ member: Member, _ id: Int64) -> Bool {
        self.state.withLock { state in
            guard let node = state.tree.nodes[id] else { return false }
            return PermissionChecker(groups: state.groups).canSee(member, node, in: state.tree)
        }
    }

    // MARK: Registering and logging in

    /// Registers a new member with an invite.
    public func register(_ request: RegisterRequest) async throws(CommuneError) -> Member {
        let username = try self.reserveUsername(request.username)
        // Reserved until the member is in the roster, or the registration failed.
        defer { self.releaseUsername(username) }
        let key = try Self.memberKey(request.publicKey)
        let code = request.invite.map { InviteLink($0)?.code ?? $0 }
        if code == nil, !self.info.isPublic {
            throw .init(.inviteInvalid, "This community is private: joining it needs an invite.")
        }
        let known = self.state.withLock { state in
            state.members[request.userID] != nil || state.membersByKey.contains(key)
        }
        if known {
            throw .init(.alreadyRegistered, "This user id or public key is already a member of this community.")
        }
        let candidate = Member(
            id: request.userID,
            username: username,
            publicKey: key,
            group: DefaultGroup.member,
            joinedAt: UnixTime.nowMilliseconds()
        )
        let member: Member
        do {
            member = try await self.store.registerMember(candidate, inviteCode: code, now: candidate.joinedAt)
        } catch let error as StoreError {
            switch error {
            case .inviteInvalid(let reason): throw .init(.inviteInvalid, reason)
            case .alreadyRegistered(let reason): throw .init(.alreadyRegistered, reason)
            case .banned(let reason): throw .init(.banned, reason)
            case .storageFull: throw self.storageHealth.full("the registration was not stored.")
            }
        } catch {
            self.logger.error("Registering a member failed: \(error)")
            throw .internalError("Registration failed on the server.")
        }
        self.storageHealth.wrote()
        self.state.withLock { state in
            state.members[member.id] = member
            state.membersByKey.insert(X25519Key.canonical(member.publicKey))
        }
        self.cacheChanged(.member(member.id))
        self.logger.info("Member registered", metadata: ["user_id": "\(member.id)", "group": "\(member.group)"])
        return member
    }

    /// A display name (``TextPolicy/name(_:field:maxLength:)``: trimmed, NFC, 1 to `maxUsernameLength` code
    /// points, no control, invisible or direction-changing character) that looks like no other member's name
    /// (`member` is the one being renamed, if any), reserved in the same step (``MemberRoster/reserve(_:excluding:)``)
    /// so that no look-alike passes before it is stored. The caller ends the reservation with ``releaseUsername(_:)``
    /// once the member is saved, or the change failed.
    func reserveUsername(_ raw: String, for member: UUIDString? = nil) throws(CommuneError) -> String {
        let name = try TextPolicy.name(raw, field: "The username", maxLength: self.configuration.maxUsernameLength)
        if let other = self.state.withLock({ $0.members.reserve(name, excluding: member) }) {
            throw .invalidArgument("The username '\(name)' looks like the name of another member ('\(other)'); choose one that is easy to tell apart.")
        }
        return name
    }

    func releaseUsername(_ name: String) {
        self.state.withLock { $0.members.release(name) }
    }

    /// A `register` request's public key in canonical form (``X25519Key/canonical(_:)``: bit 255 cleared, reduced
    /// modulo p), so that another spelling of a member's or a banned key is the same key; a key of small order is
    /// refused, since anyone could answer its challenge.
    static func memberKey(_ base64: String) throws(CommuneError) -> [UInt8] {
        let key = X25519Key.canonical(Array(try Curve25519.KeyAgreement.PublicKey(base64: base64).rawRepresentation))
        guard !X25519Key.isSmallOrder(key) else {
            throw .invalidArgument(
                "public_key is a point of small order on Curve25519: its shared secret would be the same for every private key, so anyone could log in as you. Generate a new key pair."
            )
        }
        return key
    }

    /// A challenge for `userID` to log in with: what to send, and the secret the answer must match.
    public func makeChallenge(for userID: UUIDString) throws(CommuneError) -> (member: Member, challenge: ChallengeMessage, secret: [UInt8]) {
        guard let member = self.member(userID) else {
            throw .init(.unknownUser, "No member with user_id \(userID) is registered here; register with an invite first.")
        }
        let memberKey: Curve25519.KeyAgreement.PublicKey
        do {
            memberKey = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: member.publicKey)
        } catch {
            throw .internalError("The member's stored key is unusable.")
        }
        let key: SymmetricKey
        do {
            key = try ChallengeCipher.key(privateKey: self.privateKey, peerPublicKey: memberKey)
        } catch {
            // A small-order key stored before registration refused them: its secret is all zeros, anyone's to derive.
            self.logger.warning("Refusing a login: the member's stored key cannot be used safely", metadata: ["user_id": "\(userID)"])
            throw .init(.challengeFailed, "This member's public key is of small order, so no challenge can prove who holds it; register a new identity.")
        }
        let (secret, sealed) = try ChallengeCipher.makeChallenge(key: key)
        return (member, ChallengeMessage(challenge: sealed, publicKey: self.publicKey), secret)
    }

    /// The `identification_response` data for a member who just logged in, with a new HTTP session token.
    public func identificationResponse(for member: Member) async throws(CommuneError) -> IdentificationResponse {
        IdentificationResponse(
            accepted: true,
            userID: member.id,
            username: member.username,
            community: self.info.json,
            group: member.group,
            sessionToken: try await self.issueSessionToken(for: member.id),
            interactables: self.interactables(for: member)
        )
    }

    // MARK: HTTP sessions

    /// A new random bearer token for `member`'s HTTP requests.
    func issueSessionToken(for member: UUIDString) async throws(CommuneError) -> String {
        let token = RandomToken.make(length: 43)
        let expiresAt = UnixTime.nowMilliseconds() + self.configuration.sessionTokenLifetimeMilliseconds
        do {
            try await self.sessions.issue(token, for: member, expiresAt: expiresAt)
        } catch {
            self.logger.error("Recording a session token failed: \(error)")
            throw .internalError("The login could not be recorded.")
        }
        return token
    }

    /// The member a bearer token belongs to, while it is valid and they are still a member.
    public func member(forSessionToken token: String) async -> Member? {
        let id: UUIDString?
        do {
            id = try await self.sessions.member(forToken: token, now: UnixTime.nowMilliseconds())
        } catch {
            self.logger.error("Reading a session token failed: \(error)")
            return nil
        }
        return id.flatMap(self.member)
    }

    // MARK: Presence

    /// Counts a logged-in connection; `true` when the member just came online.
    public func connectionOpened(by member: UUIDString) -> Bool {
        self.state.withLock { state in
            state.onlineConnections[member, default: 0] += 1
            return state.onlineConnections[member] == 1
        }
    }

    /// Uncounts a logged-in connection; `true` when the member just went offline.
    public func connectionClosed(by member: UUIDString) -> Bool {
        self.state.withLock { state in
            guard let count = state.onlineConnections[member] else { return false }
            if count <= 1 {
                state.onlineConnections[member] = nil
                return true
            }
            state.onlineConnections[member] = count - 1
            return false
        }
    }

    // MARK: Functions

    /// Runs a `function` request for a logged-in member: finds its target and the capability that answers it in
    /// ``codecs`` (the one dispatcher), and returns what should happen.
    public func perform(_ request: FunctionRequest, context: FunctionContext) async throws(CommuneError) -> Effect {
        let (call, codec) = try self.resolve(request, for: context.member)
        guard let capability = self.codecs.capability(for: request.function, codec: codec) else {
            if let codec, self.codecs[codec] == nil {
                throw .init(.unknownFunction, "This server has no codec '\(codec)'.")
            }
            let target = codec.map { "The \($0) codec" } ?? "The community"
            throw .init(.unknownFunction, "\(target) has no function '\(request.function)'.")
        }
        return try await capability.perform(call, context: context)
    }

    /// Whether `request` may run pipelined with the connection's next requests (``FunctionSpec/pipelined``).
    public func isPipelined(_ request: FunctionRequest) -> Bool {
        guard let (_, codec) = try? self.resolve(request) else { return false }
        return self.codecs.isPipelined(request.function, codec: codec)
    }

    /// The call `request` makes and the codec of its target (`nil`: the community itself). A node `member` may not
    /// see is answered exactly like a node that does not exist (`nil` member: no check, for pipelining only).
    private func resolve(_ request: FunctionRequest, for member: Member? = nil) throws(CommuneError) -> (FunctionCall, codec: String?) {
        if request.address.name.isEmpty && request.address.path.isEmpty {
            if let codec = request.codec, codec != CommunityFunctions.codec {
                throw .invalidArgument("data.name is required (an empty name addresses the community, codec 'community').")
            }
            return (FunctionCall(request: request, node: nil, address: request.address), nil)
        }
        let (tree, checker) = self.state.withLock { ($0.tree, PermissionChecker(groups: $0.groups)) }
        let visible = tree.node(at: request.address).flatMap { node in
            member.map { checker.canSee($0, node, in: tree) } ?? true ? node : nil
        }
        guard let node = visible else {
            if request.function == StructureFunctions.create {
                // Creating addresses the new node's place; it does not exist yet. `create` checks the codec.
                let codec = request.payload["codec"]?.stringValue ?? request.codec ?? ""
                return (FunctionCall(request: request, node: nil, address: request.address), codec)
            }
            let kind = request.codec.map { "\($0) channel" } ?? "interactable"
            throw .notFound("No \(kind) '\(request.address.name)' at path '\(request.address.path)'.")
        }
        if let codec = request.codec, codec != node.codec {
            throw .invalidArgument("'\(request.address)' is a \(node.codec) interactable, not \(codec).")
        }
        return (FunctionCall(request: request, node: node, address: tree.address(of: node)), node.codec)
    }

    // MARK: Audiences

    /// The members an update addressed to `audience` reaches (the fan-out then leaves out `audience.excluded`).
    public func recipients(of audience: Audience) -> Recipients {
        switch audience.scope {
        case .community:
            return .everyone
        case .channelViewers(let id):
            return self.state.withLock { state in
                guard let allowed = state.tree.access(of: id) else { return .everyone }
                let checker = PermissionChecker(groups: state.groups)
                return .members(Set(state.members.values.lazy.filter { checker.isAllowed($0, by: allowed) }.map(\.id)))
            }
        case .permissionHolders(let permission):
            return self.state.withLock { state in
                let checker = PermissionChecker(groups: state.groups)
                return .members(Set(state.members.values.lazy.filter { checker.has($0, permission) }.map(\.id)))
            }
        case .member(let id):
            return .members([id])
        case .members(let ids):
            return .members(ids)
        case .connection(let id):
            return .connection(id)
        case .listing(let member, let ranks):
            return .connections(self.memberList.connections(showing: ranks), members: [member])
        }
    }
}
