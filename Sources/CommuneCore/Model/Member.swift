import CommuneProtocol

/// A registered member of the community.
public struct Member: Sendable, Hashable {
    public var id: UUIDString
    public var username: String
    /// The raw 32-byte X25519 public key the member logs in with.
    public var publicKey: [UInt8]
    /// The group the member's invite placed them in.
    public var group: String
    /// Unix milliseconds.
    public var joinedAt: Int64

    public init(id: UUIDString, username: String, publicKey: [UInt8], group: String, joinedAt: Int64) {
        self.id = id
        self.username = username
        self.publicKey = publicKey
        self.group = group
        self.joinedAt = joinedAt
    }
}
