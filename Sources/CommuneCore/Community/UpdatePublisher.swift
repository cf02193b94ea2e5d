import CommuneProtocol

/// Identifies one client connection on this server.
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "#\(self.rawValue)" }
}

/// Delivers `update`s to the connected members who may see them.
///
/// The domain decides what happened; the server's fan-out implements this to encode each update once and queue the
/// same bytes on every recipient's connection.
public protocol UpdatePublisher: Sendable {
    /// Sends `update` to every logged-in connection except `excluded`.
    func publish(_ update: FunctionResult, excluding excluded: ConnectionID?)
    /// Closes every connection of `member` (removed or banned), after what is queued for them, with `reason`.
    func disconnect(member: UUIDString, reason: String)
}

/// A publisher that drops everything: for administration tools that change the store with no server attached.
public struct NoUpdatePublisher: UpdatePublisher {
    public init() {}
    public func publish(_ update: FunctionResult, excluding excluded: ConnectionID?) {}
    public func disconnect(member: UUIDString, reason: String) {}
}
