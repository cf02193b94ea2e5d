import CommuneProtocol

/// A category: holds other interactables, categories included. It has no functions of its own yet.
public struct CategoryCodec: ChannelCodec {
    public let name = InteractableNode.categoryCodec

    public init() {}

    public func perform(_ request: FunctionRequest, on node: Interactable, address: ChannelAddress, context: FunctionContext)
        async throws(CommuneError) -> FunctionResult
    {
        throw self.unknownFunction(request)
    }
}
