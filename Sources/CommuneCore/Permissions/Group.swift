/// A named group of members: the permissions they hold and their power level.
///
/// Seed 003's power levels: a member may act on another member only when their power is strictly higher, so a
/// moderator cannot remove, ban or rename an equal or a superior. The `owner` group is above every check.
public struct Group: Sendable, Hashable {
    public var name: String
    public var permissions: Set<Permission>
    /// 0 to 100; the owner group is 100.
    public var power: Int64

    public init(name: String, permissions: Set<Permission>, power: Int64) {
        self.name = name
        self.permissions = permissions
        self.power = power
    }

    /// The groups a new community starts with.
    public static let defaults: [Group] = [
        Group(name: DefaultGroup.owner, permissions: Set(Permission.all), power: 100),
        Group(
            name: "moderator",
            permissions: [
                .removeUsers, .banUsers, .changeMessages, .inviteUsers, .suppressUsers, .setTopic, .renameUsers, .pinMessages, .mentionEveryone,
            ],
            power: 50
        ),
        Group(name: DefaultGroup.member, permissions: [], power: 0),
    ]
}
