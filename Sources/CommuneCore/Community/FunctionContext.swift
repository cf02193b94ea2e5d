import CommuneProtocol

/// Everything a codec needs to run one function call.
public struct FunctionContext: Sendable {
    /// The member calling.
    public var member: Member
    /// The connection the call came from; it gets the reply, not the update.
    public var connection: ConnectionID
    public var community: Community
    public var publisher: any UpdatePublisher

    public init(member: Member, connection: ConnectionID, community: Community, publisher: any UpdatePublisher) {
        self.member = member
        self.connection = connection
        self.community = community
        self.publisher = publisher
    }
}
