import CommuneProtocol

/// Who is calling, from where, in which community: everything a handler needs besides the call itself.
public struct FunctionContext: Sendable {
    /// The member calling, as the community knows them now.
    public var member: Member
    /// The connection the call came from; it gets the reply (updates are usually addressed past it).
    public var connection: ConnectionID
    public var community: Community

    public init(member: Member, connection: ConnectionID, community: Community) {
        self.member = member
        self.connection = connection
        self.community = community
    }
}
