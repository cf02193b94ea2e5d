/// Identifies one client connection on this server (a member may have several: a browser tab, the CLI, …).
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "#\(self.rawValue)" }
}
