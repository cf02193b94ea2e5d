import CommuneProtocol

/// Invites tied to a group (seed 002): create, list and revoke, with `invite_users`. Nobody hands out a group at
/// or above their own power.
struct InviteFunctions: Capability {
    var functions: [FunctionSpec] {
        [FunctionSpec(CommunityFunctions.createInvite), FunctionSpec(CommunityFunctions.listInvites), FunctionSpec(CommunityFunctions.revokeInvite)]
    }

    var results: [String] { [CommunityFunctions.inviteCreated, CommunityFunctions.inviteList, CommunityFunctions.inviteRevoked] }

    func perform(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        switch call.function {
        case CommunityFunctions.createInvite:
            return try await self.createInvite(call, context: context)
        case CommunityFunctions.listInvites:
            try community.permissions.require(.inviteUsers, for: context.member)
            let checker = community.permissions
            // Only invites into groups the member could hand out themselves: nobody reads the code of an invite
            // that would place its user at or above their own power.
            let invites = try await self.invites(community).filter { checker.canAssign($0.group, by: context.member) }
            let now = UnixTime.nowMilliseconds()
            let base = try? await InviteIssuer.baseURL(in: community.store)
            return .reply(
                CommunityFunctions.result(
                    CommunityFunctions.inviteList, ["invites": .array(invites.map { CommunityFunctions.json(for: $0, base: base, now: now) })]
                )
            )
        case CommunityFunctions.revokeInvite:
            let checker = community.permissions
            try checker.require(.inviteUsers, for: context.member)
            let code = try call.payload().string("code")
            guard let invite = try await self.invites(community).first(where: { $0.code == code }) else {
                throw .notFound("No invite with that code.")
            }
            try checker.requireCanAssign(invite.group, by: context.member)
            let revoked: Bool
            do { revoked = try await community.store.revokeInvite(code) } catch { throw .internalError("The invite could not be revoked.") }
            guard revoked else { throw .notFound("No invite with that code.") }
            await community.audit(context.member, action: .inviteRevoke, target: String(code.prefix(6)), "revoked invite \(code.prefix(6))…")
            return .reply(CommunityFunctions.result(CommunityFunctions.inviteRevoked, ["code": .string(code)]))
        default:
            throw self.unknownFunction(call)
        }
    }

    /// `create_invite {uses?, expires_in?, group?}`: `expires_in` in seconds (0 or absent: 7 days; -1: never).
    func createInvite(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        let checker = community.permissions
        try checker.require(.inviteUsers, for: context.member)
        let reader = try call.payload()
        let uses = try reader.optionalInt("uses") ?? 1
        guard (1...1_000_000).contains(uses) else { throw .invalidArgument("data.payload.uses must be between 1 and 1000000.") }
        let expiresIn = try reader.optionalInt("expires_in") ?? 0
        guard expiresIn >= -1, expiresIn <= 3_650 * 86_400 else {
            throw .invalidArgument("data.payload.expires_in must be seconds (up to 10 years), 0 for 7 days, or -1 for never.")
        }
        let group = try reader.optionalString("group") ?? DefaultGroup.member
        try checker.requireCanAssign(group, by: context.member)
        let lifetime: Int64? = expiresIn == -1 ? nil : (expiresIn == 0 ? 7 * 86_400_000 : expiresIn * 1_000)
        do {
            let base = try await InviteIssuer.baseURL(in: community.store)
            let invite = try await InviteIssuer.create(in: community.store, group: group, uses: uses, lifetimeMilliseconds: lifetime)
            await community.audit(
                context.member, action: .inviteCreate, target: String(invite.code.prefix(6)),
                "created invite \(invite.code.prefix(6))… for group '\(group)' (\(uses) uses)"
            )
            let payload = CommunityFunctions.json(for: invite, base: base, now: UnixTime.nowMilliseconds())
            return .reply(CommunityFunctions.result(CommunityFunctions.inviteCreated, payload))
        } catch let error as CommuneError {
            throw error
        } catch {
            throw .internalError("The invite could not be created.")
        }
    }

    private func invites(_ community: Community) async throws(CommuneError) -> [Invite] {
        do { return try await community.store.invites() } catch { throw .internalError("The invites could not be read.") }
    }

}
