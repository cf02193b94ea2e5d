import CommuneProtocol

/// A slice of what a community can do: the functions it answers and the results it sends.
///
/// Channel codecs (``ChannelCodec``) and community features (members, groups, invites, information, audit) are
/// capabilities alike, listed in one ``CodecRegistry`` and reached through one dispatcher
/// (``Community/perform(_:context:)``). A handler returns an ``Effect`` — its reply and the updates to push, each
/// with its ``Audience`` — and never publishes or orders anything itself.
public protocol Capability: Sendable {
    /// The functions it answers.
    var functions: [FunctionSpec] { get }
    /// The `result` names of its replies and updates (documentation, and a check against clashes).
    var results: [String] { get }

    /// Runs one of ``functions``.
    func perform(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect
}

/// A function a capability answers.
public struct FunctionSpec: Sendable, Hashable, ExpressibleByStringLiteral {
    public var name: String
    /// The connection may start its next request once this call's write is queued in the store (see
    /// ``PipelinedWrite``), so a burst of calls shares store commits; replies and updates still keep request order.
    /// Only for functions whose effect does not depend on the requests after them.
    public var pipelined: Bool

    public init(_ name: String, pipelined: Bool = false) {
        self.name = name
        self.pipelined = pipelined
    }

    public init(stringLiteral name: String) {
        self.init(name)
    }
}

extension Capability {
    public var results: [String] { [] }

    /// The `unknown_function` error for a function this capability does not have.
    public func unknownFunction(_ call: FunctionCall) -> CommuneError {
        CommuneError(.unknownFunction, "No function '\(call.function)' here.")
    }
}
