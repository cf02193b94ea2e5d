import CommuneProtocol

/// A voice channel. Lists its `active_users` in the tree; calls, states and signalling come with the voice work.
public struct VoiceChannelCodec: ChannelCodec {
    public let name = "voice"

    public init() {}

    public func treeData(for node: Interactable, in community: Community) -> [String: JSONValue] {
        TopicFunctions.treeData(for: node).merging(["active_users": .object([:])]) { _, new in new }
    }

    public func perform(_ request: FunctionRequest, on node: Interactable, address: ChannelAddress, context: FunctionContext)
        async throws(CommuneError) -> FunctionResult
    {
        if request.function == TextFunction.setTopic {
            return try await TopicFunctions.setTopic(request, on: node, address: address, codec: self.name, context: context)
        }
        throw self.unknownFunction(request)
    }
}
