import CommuneProtocol

/// The behaviour of one kind of interactable: its functions and updates, its data in the tree, what `create`
/// accepts for it and the nodes it adds to a new community's tree.
///
/// Seed 000: "mods can create their own channel codecs". A codec is one type behind this protocol, registered in
/// ``CodecRegistry``; a new kind of channel is a new file and one line in a registry, even outside Commune's own
/// sources (`CodecRegistry.standard.adding(MyCodec())` in the server's configuration).
public protocol ChannelCodec: Capability {
    /// The `codec` string on the wire: `text`, `voice`, `category`, …
    var name: String { get }

    /// Whether nodes of this codec hold other nodes (on the wire, a container's `data` holds its children by name).
    var holdsChildren: Bool { get }

    /// The node's `data` in `identification_response.interactables` (ignored for containers).
    func treeData(for node: Interactable, in community: Community) -> [String: JSONValue]

    /// The stored properties of a node `create` makes, from the request's payload; throws `invalid_argument` for a
    /// payload that does not fit.
    func creationProperties(_ payload: PayloadReader, in community: Community) throws(CommuneError) -> [String: String]

    /// The nodes of this codec in a new community's tree.
    var defaultNodes: [DefaultNode] { get }
}

extension ChannelCodec {
    public var holdsChildren: Bool { false }
    public var functions: [FunctionSpec] { [] }
    public var defaultNodes: [DefaultNode] { [] }

    public func treeData(for node: Interactable, in community: Community) -> [String: JSONValue] { [:] }

    public func creationProperties(_ payload: PayloadReader, in community: Community) throws(CommuneError) -> [String: String] {
        [:]
    }

    public func perform(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect {
        throw self.unknownFunction(call)
    }

    /// The `unknown_function` error for a function this codec does not have.
    public func unknownFunction(_ call: FunctionCall) -> CommuneError {
        CommuneError(.unknownFunction, "The \(self.name) codec has no function '\(call.function)'.")
    }

    /// A result addressed at `address`, under this codec's name.
    public func result(_ name: String, at address: ChannelAddress, _ payload: JSONValue = .object([:])) -> FunctionResult {
        FunctionResult(codec: self.name, address: address, result: name, payload: payload)
    }
}

/// A node of a new community's default tree.
public struct DefaultNode: Sendable, Hashable {
    /// The categories above it, joined by `/` (`""` for the top level).
    public var path: String
    public var name: String
    /// Order among its siblings.
    public var position: Int64

    public init(path: String = "", name: String, position: Int64) {
        self.path = path
        self.name = name
        self.position = position
    }
}
