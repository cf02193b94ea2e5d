/// A right a group can hold. Seed 002's permission list, in Commune's snake_case spelling.
public struct Permission: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { self.rawValue }
    public static func < (lhs: Permission, rhs: Permission) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Create, rename, move and remove categories and channels.
    public static let manageChannels = Permission(rawValue: "manage_channels")
    /// Change other members' display names.
    public static let renameUsers = Permission(rawValue: "rename_users")
    /// Remove members (their key can no longer log in).
    public static let removeUsers = Permission(rawValue: "remove_users")
    /// Ban and unban members, read the ban list.
    public static let banUsers = Permission(rawValue: "ban_users")
    /// Edit or remove other members' messages.
    public static let changeMessages = Permission(rawValue: "change_messages")
    /// Create, change and remove groups.
    public static let setGroupPermissions = Permission(rawValue: "set_group_permissions")
    /// Move members between groups.
    public static let setUserGroups = Permission(rawValue: "set_user_groups")
    /// Create, list and revoke invites.
    public static let inviteUsers = Permission(rawValue: "invite_users")
    /// Server-mute members in voice channels.
    public static let suppressUsers = Permission(rawValue: "suppress_users")
    /// Set a channel's topic.
    public static let setTopic = Permission(rawValue: "set_topic")
    /// Pin and unpin messages in text channels.
    public static let pinMessages = Permission(rawValue: "pin_messages")
    /// Mention `@everyone` in a message (it notifies every member).
    public static let mentionEveryone = Permission(rawValue: "mention_everyone")
    /// Change the community's name, description, icon and visibility; read the audit log.
    public static let manageCommunity = Permission(rawValue: "manage_community")

    public static let all: [Permission] = [
        .manageChannels, .renameUsers, .removeUsers, .banUsers, .changeMessages, .setGroupPermissions, .setUserGroups,
        .inviteUsers, .suppressUsers, .setTopic, .manageCommunity, .pinMessages, .mentionEveryone,
    ]
}
