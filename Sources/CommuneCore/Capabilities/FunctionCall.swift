import CommuneProtocol

/// One `function` request, resolved to its target: the community itself, or an interactable of the tree.
public struct FunctionCall: Sendable {
    public var request: FunctionRequest
    /// The interactable addressed; `nil` for a community-wide function (and for `create`, whose node does not exist
    /// yet).
    public var node: Interactable?
    /// The target's address as the tree spells it (for a `create`, the requested one).
    public var address: ChannelAddress

    public init(request: FunctionRequest, node: Interactable?, address: ChannelAddress) {
        self.request = request
        self.node = node
        self.address = address
    }

    public var function: String { self.request.function }

    /// The request's `payload`, read field by field with precise `invalid_argument` errors.
    public func payload() throws(CommuneError) -> PayloadReader {
        try PayloadReader(self.request.payload, context: "data.payload")
    }

    /// The interactable addressed. The dispatcher only hands a codec calls on one of its nodes.
    public func interactable() throws(CommuneError) -> Interactable {
        guard let node = self.node else { throw .notFound("No interactable '\(self.address)'.") }
        return node
    }
}
