import CommuneProtocol

/// Creates invites and the links that carry them.
public enum InviteIssuer {
    /// Creates an invite for `group`, usable `uses` times, expiring after `lifetimeMilliseconds` (never if `nil`).
    ///
    /// - Throws: ``CommuneError`` `not_found` when `group` does not exist (an invite must land its user somewhere
    ///   real).
    public static func create(
        in store: any InviteStore & GroupStore,
        group: String = DefaultGroup.member,
        uses: Int64 = 1,
        lifetimeMilliseconds: Int64? = nil
    ) async throws -> Invite {
        guard try await store.groups().contains(where: { $0.name == group }) else {
            throw CommuneError.notFound("There is no group '\(group)': create it first, or invite into an existing group.")
        }
        let now = UnixTime.nowMilliseconds()
        let invite = Invite(
            code: Invite.randomCode(),
            group: group,
            usesLeft: uses,
            expiresAt: lifetimeMilliseconds.map { now + $0 },
            createdAt: now
        )
        try await store.createInvite(invite)
        return invite
    }

    /// The link for `invite`, on the base URL the server last recorded.
    ///
    /// - Throws: when no server has run on this store yet, so its address is unknown.
    public static func link(for invite: Invite, in store: any SettingsStore) async throws -> InviteLink {
        InviteLink(baseURL: try await self.baseURL(in: store), code: invite.code)
    }

    /// The base URL of invite links: the address the server last recorded.
    ///
    /// - Throws: when no server has run on this store yet, so its address is unknown.
    public static func baseURL(in store: any SettingsStore) async throws -> String {
        guard let base = try await store.settings()[SettingKey.publicURL] else {
            throw CommuneError.notFound("This community has no address yet: start it once with `commune serve`.")
        }
        return base
    }
}
