import CommuneProtocol

/// What members do to themselves and moderators do to members: names, status, server mute, removal and bans
/// (seeds 002, 003 and 004). Community-wide functions, addressed at the community.
///
/// Acting on someone else needs the right permission and a higher power level than theirs (``PermissionChecker``).
/// A change reaches, as `member_changed`, the connections whose member list shows the member (before and after a
/// rename) and the member's own; a removal reaches everyone as `member_removed`.
struct MemberFunctions: Capability {
    static let setUsername = "set_username"
    static let setStatus = "set_status"
    static let serverMute = "server_mute"
    static let removeMember = "remove_member"
    static let ban = "ban"
    static let getBans = "get_bans"
    static let unban = "unban"
    static let memberRemoved = "member_removed"
    static let banList = "ban_list"
    static let unbanned = "unbanned"

    var functions: [FunctionSpec] {
        [Self.setUsername, Self.setStatus, Self.serverMute, Self.removeMember, Self.ban, Self.getBans, Self.unban].map { FunctionSpec($0) }
    }

    var results: [String] { [CommunityFunctions.memberChanged, Self.memberRemoved, Self.banList, Self.unbanned] }

    func perform(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect {
        let reader = try call.payload()
        switch call.function {
        case Self.setUsername: return try await self.setUsername(reader, context: context)
        case Self.setStatus: return try await self.setStatus(reader, context: context)
        case Self.serverMute: return try await self.serverMute(reader, context: context)
        case Self.removeMember, Self.ban: return try await self.remove(reader, banning: call.function == Self.ban, context: context)
        case Self.getBans: return try await self.bans(context: context)
        case Self.unban: return try await self.unban(reader, context: context)
        default: throw self.unknownFunction(call)
        }
    }

    /// The member named by `user_id`, who must exist.
    func target(_ reader: PayloadReader, context: FunctionContext) throws(CommuneError) -> Member {
        let id = try reader.uuid("user_id")
        guard let member = context.community.member(id) else { throw .notFound("No member \(id) in this community.") }
        return member
    }

    /// Replies with `member_changed` and pushes it to those who show the member (`previousRank`: their place in the
    /// list before a rename).
    func changed(_ member: Member, previousRank: Int? = nil, context: FunctionContext) -> Effect {
        let community = context.community
        return .broadcast(community.memberChanged(member), to: community.listingAudience(of: member.id, also: previousRank))
    }

    /// `set_username {username, user_id?}`: your own name, or another's with `rename_users` (seed 002 `updateuser`).
    func setUsername(_ reader: PayloadReader, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        var member = context.member
        if try reader.optionalString("user_id") != nil {
            member = try self.target(reader, context: context)
        }
        if member.id != context.member.id {
            try community.permissions.require(.renameUsers, for: context.member, over: member)
        }
        let old = member.username
        let username = try community.reserveUsername(try reader.string("username"), for: member.id)
        defer { community.releaseUsername(username) }
        member.username = username
        let oldRank = community.listRank(of: member.id)
        let saved = try await community.saveMember(member)
        if member.id != context.member.id {
            await community.audit(context.member, action: .renameMember, target: saved.id.value, "renamed \(old) to \(saved.username)")
        }
        return self.changed(saved, previousRank: oldRank, context: context)
    }

    /// `set_status {status, text?}`: online, away or busy, with a short text (seed 004 "status change").
    func setStatus(_ reader: PayloadReader, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        let name = try reader.string("status")
        guard let status = MemberStatus(rawValue: name) else {
            throw .invalidArgument("data.payload.status must be one of \(MemberStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        let text = try TextPolicy.line(try reader.optionalString("text") ?? "", field: "data.payload.text")
        let limit = community.configuration.maxStatusTextLength
        guard text.unicodeScalars.count <= limit else { throw .init(.tooLarge, "The status text must be at most \(limit) characters.") }
        var member = context.member
        member.status = status
        member.statusText = text
        return self.changed(try await community.saveMember(member), context: context)
    }

    /// `server_mute {user_id, suppress}` (seed 002 `servermute`): needs `suppress_users` over the member.
    func serverMute(_ reader: PayloadReader, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        var member = try self.target(reader, context: context)
        guard let suppress = try reader.optionalBool("suppress") else { throw .invalidArgument("data.payload.suppress is required.") }
        try community.permissions.require(.suppressUsers, for: context.member, over: member)
        member.suppressed = suppress
        let saved = try await community.saveMember(member)
        await community.audit(
            context.member, action: suppress ? .serverMute : .serverUnmute, target: saved.id.value,
            "\(suppress ? "server-muted" : "unmuted") \(saved.username)"
        )
        var effect = self.changed(saved, context: context)
        effect.updates += await community.callServerMuteChanged(saved)
        return effect
    }

    /// `remove_member {user_id, vengeance?}` and `ban {user_id, reason?, vengeance?}`: the member's key can no
    /// longer log in and their connections close; a ban also keeps the key and id from registering again.
    func remove(_ reader: PayloadReader, banning: Bool, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        let member = try self.target(reader, context: context)
        try community.permissions.require(banning ? .banUsers : .removeUsers, for: context.member, over: member)
        let vengeance = try reader.optionalBool("vengeance") ?? false
        var ban: Ban?
        if banning {
            let reason = try TextPolicy.line(try reader.optionalString("reason") ?? "", field: "data.payload.reason")
            guard reason.unicodeScalars.count <= 512 else { throw .init(.tooLarge, "The reason must be at most 512 characters.") }
            ban = Ban(
                userID: member.id, publicKey: member.publicKey, username: member.username, reason: reason,
                bannedBy: context.member.id, bannedByName: context.member.username, time: UnixTime.nowMilliseconds()
            )
        }
        try await community.removeMember(member, ban: ban, vengeance: vengeance)
        let what = banning ? "banned" : "removed"
        await community.audit(
            context.member, action: banning ? .ban : .removeMember, target: member.id.value,
            "\(what) \(member.username)\(vengeance ? " with vengeance" : "")\(ban.map { $0.reason.isEmpty ? "" : ": \($0.reason)" } ?? "")"
        )
        let result = CommunityFunctions.result(
            Self.memberRemoved, ["user_id": .string(member.id.value), "banned": .bool(banning), "vengeance": .bool(vengeance)]
        )
        // Their call ends before the moderator hears it is done: their media admission is revoked by then.
        var updates: [Update] = []
        if let participant = community.calls.leave(member.id) {
            updates += await community.participantLeft(participant, reason: .removed, tellConnection: false)
        }
        updates.append(Update(result, to: .community))
        return Effect(
            reply: result, updates: updates,
            disconnects: [Disconnect(member: member.id, reason: banning ? "banned" : "removed from the community")]
        )
    }

    /// `get_bans`: needs `ban_users` (seed 003: only administrators see who is banned).
    func bans(context: FunctionContext) async throws(CommuneError) -> Effect {
        try context.community.permissions.require(.banUsers, for: context.member)
        let bans: [Ban]
        do { bans = try await context.community.store.bans() } catch { throw .internalError("The ban list could not be read.") }
        let list: [JSONValue] = bans.map { ban in
            [
                "user_id": .string(ban.userID.value), "username": .string(ban.username), "reason": .string(ban.reason),
                "banned_by": ban.bannedBy.map { .string($0.value) } ?? .null, "banned_by_name": .string(ban.bannedByName),
                "time": .int(ban.time),
            ]
        }
        return .reply(CommunityFunctions.result(Self.banList, ["bans": .array(list)]))
    }

    /// `unban {user_id}`: the identity may register again with a new invite.
    func unban(_ reader: PayloadReader, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        try community.permissions.require(.banUsers, for: context.member)
        let id = try reader.uuid("user_id")
        let lifted: Bool
        do { lifted = try await community.store.unban(id) } catch { throw .internalError("The ban could not be lifted.") }
        guard lifted else { throw .notFound("\(id) is not banned.") }
        await community.audit(context.member, action: .unban, target: id.value, "unbanned \(id)")
        return .reply(CommunityFunctions.result(Self.unbanned, ["user_id": .string(id.value)]))
    }
}
