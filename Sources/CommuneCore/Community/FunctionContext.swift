import CommuneProtocol

/// Everything a codec needs to run one function call.
public struct FunctionContext: Sendable {
    /// The member calling.
    public var member: Member
    /// The connection the call came from; it gets the reply, not the update.
    public var connection: ConnectionID
    public var community: Community
    public var publisher: any UpdatePublisher
    /// How this call keeps its place among the connection's pipelined requests.
    public var order: RequestOrder

    public init(
        member: Member, connection: ConnectionID, community: Community, publisher: any UpdatePublisher,
        order: RequestOrder = .serial
    ) {
        self.member = member
        self.connection = connection
        self.community = community
        self.publisher = publisher
        self.order = order
    }
}

/// The order of one connection's requests when it has several in flight.
///
/// A connection starts its requests one after another, and starts the next only when the previous one lets it
/// (``startNext``) or finishes. A message send lets the next request start as soon as its message is queued for
/// the store, so a client that sends a burst shares store commits with itself; it then waits for the requests
/// before it (``awaitPredecessors``) before telling anyone, so replies and updates still go out in order.
public struct RequestOrder: Sendable {
    /// Lets the connection start its next request (idempotent).
    public let startNext: @Sendable () -> Void
    /// Returns once every earlier request of the connection has finished.
    public let awaitPredecessors: @Sendable () async -> Void

    public init(startNext: @escaping @Sendable () -> Void, awaitPredecessors: @escaping @Sendable () async -> Void) {
        self.startNext = startNext
        self.awaitPredecessors = awaitPredecessors
    }

    /// One request at a time: nothing to wait for.
    public static let serial = RequestOrder(startNext: {}, awaitPredecessors: {})
}
