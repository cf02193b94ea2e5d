/// What an audit entry records, as a stable machine word (``AuditEntry/action``): clients filter and translate by
/// it, and show ``AuditEntry/text`` for the rest. A word, once used, keeps its meaning; new changes get new words.
///
/// A raw-value struct rather than an enum so that a word this build does not know (written by a newer server into
/// the same database) is read back as it is, not lost.
public struct AuditAction: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { self.rawValue }

    // Structure (target: the node's address, `path/name`; after the change for `rename` and `move`).
    /// A category or channel was created.
    public static let create = AuditAction(rawValue: "create")
    /// A category or channel was renamed.
    public static let rename = AuditAction(rawValue: "rename")
    /// A category or channel was moved.
    public static let move = AuditAction(rawValue: "move")
    /// A category or channel was removed, with everything under it.
    public static let remove = AuditAction(rawValue: "remove")
    /// A channel's topic was set or cleared (target: the channel's address).
    public static let setTopic = AuditAction(rawValue: "set_topic")
    /// Another member's message was edited (target: the channel's address; the text names the message).
    public static let editMessage = AuditAction(rawValue: "edit_message")
    /// Another member's message was removed (target: the channel's address; the text names the message).
    public static let removeMessage = AuditAction(rawValue: "remove_message")

    // Members (target: the member's user id).
    /// Another member's display name was changed.
    public static let renameMember = AuditAction(rawValue: "rename_member")
    /// A member was server-muted.
    public static let serverMute = AuditAction(rawValue: "server_mute")
    /// A member's server mute was lifted.
    public static let serverUnmute = AuditAction(rawValue: "server_unmute")
    /// A member was removed (not banned).
    public static let removeMember = AuditAction(rawValue: "remove_member")
    /// A member was banned.
    public static let ban = AuditAction(rawValue: "ban")
    /// A ban was lifted.
    public static let unban = AuditAction(rawValue: "unban")
    /// A member was placed in a group (the text names the group).
    public static let setGroup = AuditAction(rawValue: "set_group")

    // Groups (target: the group's name).
    /// A group was created.
    public static let groupCreate = AuditAction(rawValue: "group_create")
    /// A group's permissions or power changed.
    public static let groupChange = AuditAction(rawValue: "group_change")
    /// A group was removed.
    public static let groupRemove = AuditAction(rawValue: "group_remove")

    /// Who may see a category or channel changed (target: its address; the text names the groups, or everyone).
    public static let setAccess = AuditAction(rawValue: "set_access")

    /// A message was pinned (target: the channel's path).
    public static let pinMessage = AuditAction(rawValue: "pin_message")
    /// A message was unpinned (target: the channel's path).
    public static let unpinMessage = AuditAction(rawValue: "unpin_message")

    // Invites (target: the first 6 characters of the code, never the whole secret).
    /// An invite was created.
    public static let inviteCreate = AuditAction(rawValue: "invite_create")
    /// An invite was revoked.
    public static let inviteRevoke = AuditAction(rawValue: "invite_revoke")

    /// The community's name, description, icon or visibility changed (no target).
    public static let communityInfo = AuditAction(rawValue: "community_info")

    /// An entry recorded before entries had an action word: only its text says what happened.
    public static let other = AuditAction(rawValue: "other")

    /// Every word this build writes, and ``other``.
    public static let all: [AuditAction] = [
        .create, .rename, .move, .remove, .setTopic, .editMessage, .removeMessage, .renameMember, .serverMute, .serverUnmute,
        .removeMember, .ban, .unban, .setGroup, .groupCreate, .groupChange, .groupRemove, .inviteCreate, .inviteRevoke,
        .communityInfo, .pinMessage, .unpinMessage, .setAccess, .other,
    ]
}
