import CommuneProtocol
import Crypto

/// A member as `get_members` lists them.
public struct MemberInfo: Sendable, Hashable {
    public var userID: UUIDString
    public var username: String
    public var group: String
    public var online: Bool
}

extension CommuneConnection {
    /// Joins the community with an invite code (or link).
    @discardableResult
    public func register(_ identity: Identity, invite: String, username: String) async throws -> RegisterResponse {
        let request = RegisterRequest(userID: identity.userID, publicKey: identity.publicKey, invite: invite, username: username)
        let reply = try await self.request(Envelope(type: .register, logMessage: "Client registering", data: request.data))
        guard reply.type == .register else { throw CommuneClientError.unexpectedReply("\(reply.type) to register") }
        return try RegisterResponse(data: reply.data)
    }

    /// Logs in with the challenge. When `communityKey` is given (base64, as seen at join), a server presenting
    /// another key is refused before any answer is sent.
    ///
    /// With `resume` (the previous connection's ``CommuneConnection/resumePoint``), the reply's `resume` says whether
    /// the updates missed since follow at once (`.resumed`), or the stream could not be resumed (`.refetch`).
    public func login(_ identity: Identity, communityKey: String? = nil, resume: ResumePoint? = nil) async throws -> IdentificationResponse {
        let challengeReply = try await self.request(
            Envelope(
                type: .identification, logMessage: "Client signing in",
                data: IdentificationRequest(userID: identity.userID, resume: resume).data
            )
        )
        guard challengeReply.type == .challenge else {
            throw CommuneClientError.unexpectedReply("\(challengeReply.type) to identification")
        }
        let challenge = try ChallengeMessage(data: challengeReply.data)
        if let communityKey, communityKey != challenge.publicKey {
            throw CommuneClientError.communityKeyMismatch
        }
        let serverKey = try Curve25519.KeyAgreement.PublicKey(base64: challenge.publicKey)
        let key = try ChallengeCipher.key(privateKey: identity.privateKey, peerPublicKey: serverKey)
        let answer = try ChallengeCipher.solve(sealed: challenge.challenge, key: key)
        let reply = try await self.request(
            Envelope(type: .challengeResponse, logMessage: "Solved challenge", data: ChallengeResponse(challenge: answer).data)
        )
        guard reply.type == .identificationResponse else {
            throw CommuneClientError.unexpectedReply("\(reply.type) to challenge_response")
        }
        var response = try IdentificationResponse(data: reply.data)
        response.communityKey = challenge.publicKey
        self.joined(response.stream)
        return response
    }

    /// Runs a function and returns its result.
    public func call(
        _ function: String,
        on address: ChannelAddress,
        codec: String? = nil,
        payload: JSONValue = .object([:])
    ) async throws -> FunctionResult {
        let request = FunctionRequest(codec: codec, address: address, function: function, payload: payload)
        let reply = try await self.request(Envelope(type: .function, logLevel: .debug, logMessage: "running function", data: request.data))
        guard reply.type == .function else { throw CommuneClientError.unexpectedReply("\(reply.type) to function") }
        return try FunctionResult(data: reply.data)
    }

    /// Sends a text message; returns once the server has committed it.
    @discardableResult
    public func sendMessage(_ text: String, to channel: ChannelAddress) async throws -> (messageID: Int64, sendTime: Int64) {
        let result = try await self.call(TextFunction.sendMessage, on: channel, codec: TextFunction.codec, payload: ["message": .string(text)])
        let reader = try PayloadReader(result.payload, context: "payload")
        return (try reader.int("message_id"), try reader.int("send_time"))
    }

    /// A page of history, newest first.
    public func messages(in channel: ChannelAddress, loaded: Int = 0, amount: Int = 50, before: Int64? = nil) async throws -> [ChatMessage] {
        var payload: [String: JSONValue] = ["loaded_messages": .int(Int64(loaded)), "amount": .int(Int64(amount))]
        if let before { payload["before"] = .int(before) }
        let result = try await self.call(TextFunction.getMessages, on: channel, codec: TextFunction.codec, payload: .object(payload))
        guard let messages = result.payload["messages"]?.arrayValue else {
            throw CommuneClientError.unexpectedReply("message_chunk without messages")
        }
        return try messages.map { value throws(CommuneError) in try ChatMessage(json: value) }
    }

    /// Every member with their presence, in username order, read a page at a time (the list's last page is what this
    /// connection shows afterwards: see ``memberPage(offset:limit:)``).
    public func members() async throws -> [MemberInfo] {
        var all: [MemberInfo] = []
        // Bounded: each page moves on by what it held, and a page never holds more than the server's limit.
        for _ in 0..<100_000 {
            let page = try await self.memberPage(offset: all.count, limit: 200)
            all += page.members
            if page.members.isEmpty || all.count >= page.total { break }
        }
        return all
    }

    /// Members `offset ..< offset + limit` of the list (username order; `limit` at most 200, 0 for the counts only),
    /// with how many there are and how many are online. From then on this connection hears `presence`,
    /// `member_joined` and `member_changed` about the members of that range only (and about its own member), and
    /// `member_counts` when it does not show them all.
    public func memberPage(offset: Int = 0, limit: Int = 100) async throws -> MemberPage {
        let result = try await self.community("get_members", ["offset": .int(Int64(offset)), "limit": .int(Int64(limit))])
        return MemberPage(result.payload)
    }

    /// The members with these ids (at most 200; ids of no member are left out), in username order. Changes no
    /// subscription.
    public func members(ids: [UUIDString]) async throws -> [MemberInfo] {
        let result = try await self.community("get_members", ["user_ids": .array(ids.map { .string($0.value) })])
        return MemberPage(result.payload).members
    }

    /// At most `limit` (1 to 50) members whose name starts with `prefix`, case and accents aside (`get_members
    /// {query}`), in the order of their names so folded, searched by the server among every member (not only those
    /// this connection has seen). Changes no subscription: the page shown stays.
    public func searchMembers(_ prefix: String, limit: Int = 10) async throws -> [MemberInfo] {
        let result = try await self.community("get_members", ["query": .string(prefix), "limit": .int(Int64(limit))])
        return MemberPage(result.payload).members
    }
}

/// A page of the member list (`member_list`).
public struct MemberPage: Sendable, Hashable {
    public var members: [MemberInfo]
    /// Where the page starts (`nil` for members asked for by id).
    public var offset: Int?
    /// How many members the community has, and how many are online.
    public var total: Int
    public var online: Int

    init(_ payload: JSONValue) {
        self.members = (payload["members"]?.arrayValue ?? []).compactMap(MemberInfo.init)
        self.offset = payload["offset"]?.intValue.map(Int.init)
        self.total = payload["total"]?.intValue.map(Int.init) ?? self.members.count
        self.online = payload["online"]?.intValue.map(Int.init) ?? self.members.count { $0.online }
    }
}

extension MemberInfo {
    /// A member object as `member_list`, `member_joined` and `member_changed` carry it.
    public init?(_ value: JSONValue) {
        guard let id = value["user_id"]?.stringValue.flatMap(UUIDString.init) else { return nil }
        self.init(
            userID: id, username: value["username"]?.stringValue ?? "", group: value["group"]?.stringValue ?? "",
            online: value["online"]?.boolValue ?? false
        )
    }
}

/// The community-wide address: `{"codec": "community", "path": "", "name": ""}`.
extension ChannelAddress {
    public static let community = ChannelAddress(path: "", name: "")
}

extension CommuneConnection {
    /// Runs a community-wide function (members, groups, invites, bans, info).
    @discardableResult
    public func community(_ function: String, _ payload: JSONValue = .object([:])) async throws -> FunctionResult {
        try await self.call(function, on: .community, codec: "community", payload: payload)
    }

    /// Sends a message with the optional extras: a `/me` action, a per-sender number (a resend with the same number
    /// returns the first reply and stores nothing), attachment ids from ``uploadAttachment(_:baseURL:sessionToken:)``,
    /// the number of the message (in the same channel) it replies to.
    @discardableResult
    public func sendMessage(
        _ text: String, to channel: ChannelAddress, kind: MessageKind, number: Int64? = nil, attachments: [String] = [],
        replyTo: Int64? = nil
    ) async throws -> (messageID: Int64, sendTime: Int64) {
        var payload: [String: JSONValue] = ["message": .string(text), "kind": .string(kind.rawValue)]
        if let number { payload["number"] = .int(number) }
        if let replyTo { payload["reply_to"] = .int(replyTo) }
        if !attachments.isEmpty { payload["attachments"] = .array(attachments.map { .string($0) }) }
        let result = try await self.call(TextFunction.sendMessage, on: channel, codec: TextFunction.codec, payload: .object(payload))
        let reader = try PayloadReader(result.payload, context: "payload")
        return (try reader.int("message_id"), try reader.int("send_time"))
    }

    /// Adds (or with `adding` false removes) my reaction with `emoji` on a message; returns how many members now react
    /// with it.
    @discardableResult
    public func react(_ emoji: String, to messageID: Int64, in channel: ChannelAddress, adding: Bool = true) async throws -> Int64 {
        let result = try await self.call(
            adding ? TextFunction.addReaction : TextFunction.removeReaction, on: channel, codec: TextFunction.codec,
            payload: ["message_id": .int(messageID), "emoji": .string(emoji)]
        )
        return try PayloadReader(result.payload, context: "payload").int("count")
    }

    /// Sets a text or voice channel's topic (`""` clears it).
    public func setTopic(_ topic: String, of channel: ChannelAddress) async throws {
        _ = try await self.call(TextFunction.setTopic, on: channel, payload: ["topic": .string(topic)])
    }

    /// Removes a member; with `ban`, also keeps their key and id out for good; with `vengeance`, masks their messages.
    public func remove(_ member: UUIDString, ban: Bool = false, reason: String = "", vengeance: Bool = false) async throws {
        var payload: [String: JSONValue] = ["user_id": .string(member.value), "vengeance": .bool(vengeance)]
        if ban { payload["reason"] = .string(reason) }
        try await self.community(ban ? "ban" : "remove_member", .object(payload))
    }
}
