import CommuneProtocol

/// Members, their registration through invites, and bans.
public protocol MemberStore: Sendable {
    func members() async throws -> [Member]
    /// One member as stored, or `nil` when there is none with that id (another node's change, read by itself).
    func member(_ id: UUIDString) async throws -> Member?
    /// Consumes one use of the invite and adds the member, atomically. A `nil` invite registers into the
    /// member's own group (a public community's open door).
    ///
    /// - Throws: ``StoreError/inviteInvalid(_:)`` when the invite cannot be used at `now`,
    ///   ``StoreError/alreadyRegistered`` when the id or the key is taken, ``StoreError/banned`` when either is
    ///   banned; in each case nothing changes. Keys match as X25519 points: every spelling of the same point
    ///   (``X25519Key/encodings(of:)``) is the same key.
    /// - Returns: the member as stored, with the invite's group.
    func registerMember(_ member: Member, inviteCode: String?, now: Int64) async throws -> Member
    /// Writes a member's username, group, status and mute.
    func updateMember(_ member: Member) async throws
    /// Deletes the member (their key can no longer log in) and, in the same transaction, records `ban` and, with
    /// `vengeance`, masks every message they sent and forgets their uploads.
    /// - Returns: the ids of the member's attachments that were forgotten (their files can go).
    func removeMember(_ id: UUIDString, ban: Ban?, vengeance: Bool) async throws -> [String]
    func bans() async throws -> [Ban]
    /// Lifts a ban; `false` if there was none.
    func unban(_ id: UUIDString) async throws -> Bool
}
