import CommuneProtocol

/// Who receives an update: named once by the handler that decided it, applied by the server's fan-out.
///
/// ```swift
/// Audience.viewers(ofChannel: node.id).excluding(context.connection)   // a new message, not echoed to its sender
/// Audience.holders(of: .banUsers)                                      // what only moderators may see
/// Audience.member(target.id)                                           // every device of one member
/// ```
public struct Audience: Sendable, Hashable {
    /// Whom the audience is made of, before ``excluded`` is taken out.
    public enum Scope: Sendable, Hashable {
        /// Every logged-in connection of the community.
        case community
        /// The members who can see the channel with this interactable id.
        case channelViewers(Int64)
        /// The members whose group holds the permission (the owner always does).
        case permissionHolders(Permission)
        /// Every connection of one member.
        case member(UUIDString)
        /// Every connection of these members (those who see the same version of something that differs per member,
        /// such as the tree).
        case members(Set<UUIDString>)
        /// One connection.
        case connection(ConnectionID)
        /// What the member list says of one member (presence, a join, a change): the connections whose
        /// `get_members` range holds any of `ranks` (the member's places in the list: before and after a rename),
        /// and every connection of the member themself.
        case listing(UUIDString, ranks: [Int])
    }

    public var scope: Scope
    /// A connection left out (usually the requester's, which gets the reply instead).
    public var excluded: ConnectionID?

    public init(_ scope: Scope, excluding excluded: ConnectionID? = nil) {
        self.scope = scope
        self.excluded = excluded
    }

    public static let community = Audience(.community)

    public static func viewers(ofChannel id: Int64) -> Audience { Audience(.channelViewers(id)) }

    public static func holders(of permission: Permission) -> Audience { Audience(.permissionHolders(permission)) }

    public static func member(_ id: UUIDString) -> Audience { Audience(.member(id)) }

    public static func members(_ ids: Set<UUIDString>) -> Audience { Audience(.members(ids)) }

    public static func connection(_ id: ConnectionID) -> Audience { Audience(.connection(id)) }

    public static func listing(_ member: UUIDString, ranks: [Int]) -> Audience { Audience(.listing(member, ranks: ranks)) }

    /// The same audience without `connection`.
    public func excluding(_ connection: ConnectionID) -> Audience {
        Audience(self.scope, excluding: connection)
    }
}

/// Which members an ``Audience`` reaches, as the community resolves it (see ``Community/recipients(of:)``).
public enum Recipients: Sendable, Equatable {
    /// Every logged-in member.
    case everyone
    /// Only these members.
    case members(Set<UUIDString>)
    /// One connection only, whoever it belongs to.
    case connection(ConnectionID)
    /// These connections (on this node), and every connection of these members.
    case connections(Set<ConnectionID>, members: Set<UUIDString>)

    /// Whether a connection of `member` with id `connection` is among the recipients.
    public func includes(member: UUIDString, connection: ConnectionID) -> Bool {
        switch self {
        case .everyone: true
        case .members(let members): members.contains(member)
        case .connection(let id): id == connection
        case .connections(let connections, let members): connections.contains(connection) || members.contains(member)
        }
    }
}
