import CommuneProtocol

/// One entry of a member's home: a community they keep in their list, or a folder's label. The server holds its three
/// fields sealed by the client (base64 of nonce ‖ ciphertext ‖ tag, opaque here) and its position; it reads neither.
public struct HomeEntry: Sendable, Hashable {
    /// The member whose home holds it.
    public var memberID: UUIDString
    /// Chosen by the client, unique in the member's home.
    public var id: UUIDString
    public var position: HomePosition
    /// The sealed `community_address`, `community_title` and `community_secret` (`nil`: none), as the client sent them.
    public var address: String
    public var title: String
    public var secret: String?
    /// When it was added or last changed, Unix milliseconds (server time, for display).
    public var updatedAt: Int64

    public init(memberID: UUIDString, id: UUIDString, position: HomePosition, address: String, title: String, secret: String?, updatedAt: Int64) {
        self.memberID = memberID
        self.id = id
        self.position = position
        self.address = address
        self.title = title
        self.secret = secret
        self.updatedAt = updatedAt
    }

    /// The order of a home's list: by position, then id.
    public static func listOrder(_ lhs: HomeEntry, _ rhs: HomeEntry) -> Bool {
        (lhs.position, lhs.id) < (rhs.position, rhs.id)
    }
}
