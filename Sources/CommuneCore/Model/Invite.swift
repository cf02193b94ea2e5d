/// An invite: a secret code that lets someone register, a limited number of times, until it expires.
public struct Invite: Sendable, Hashable {
    /// The secret code (URL-safe base64, 24 characters).
    public var code: String
    /// The group the registered member lands in.
    public var group: String
    /// How many more registrations it allows.
    public var usesLeft: Int64
    /// Unix milliseconds; `nil` for never.
    public var expiresAt: Int64?
    public var createdAt: Int64
    public var revoked: Bool

    public init(code: String, group: String, usesLeft: Int64, expiresAt: Int64?, createdAt: Int64, revoked: Bool = false) {
        self.code = code
        self.group = group
        self.usesLeft = usesLeft
        self.expiresAt = expiresAt
        self.createdAt = createdAt
        self.revoked = revoked
    }

    /// A new random code: 144 random bits as 24 URL-safe base64 characters.
    public static func randomCode() -> String {
        RandomToken.make(length: 24)
    }

    /// Why the invite cannot be used at `now`, or `nil` if it can.
    public func refusal(now: Int64) -> String? {
        if self.revoked { return "This invite was revoked." }
        if self.usesLeft <= 0 { return "This invite has been used up." }
        if let expiresAt = self.expiresAt, expiresAt <= now { return "This invite has expired." }
        return nil
    }
}
