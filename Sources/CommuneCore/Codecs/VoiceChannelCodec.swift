import CommuneProtocol

/// A voice channel. Lists its `active_users` in the tree; calls, states and signalling come with the voice work.
public struct VoiceChannelCodec: ChannelCodec {
    public let name = "voice"

    public init() {}

    public func treeData(for node: Interactable, in community: Community) -> [String: JSONValue] {
        ["active_users": .object([:])]
    }

    public func perform(_ request: FunctionRequest, on node: Interactable, address: ChannelAddress, context: FunctionContext)
        async throws(CommuneError) -> FunctionResult
    {
        throw self.unknownFunction(request)
    }
}
