import CommuneProtocol

/// A voice channel. Lists its `active_users` in the tree; calls, states and signalling come with the voice work.
public struct VoiceChannelCodec: ChannelCodec {
    public let name = "voice"

    public init() {}

    public var functions: [FunctionSpec] { [FunctionSpec(TextFunction.setTopic)] }

    public var results: [String] { [TextFunction.topicChanged] }

    /// The seed's example tree has the voice channel `VC-1` in the category `General`.
    public var defaultNodes: [DefaultNode] { [DefaultNode(path: "General", name: "VC-1", position: 1)] }

    public func treeData(for node: Interactable, in community: Community) -> [String: JSONValue] {
        TopicFunctions.treeData(for: node).merging(["active_users": .object([:])]) { _, new in new }
    }

    public func perform(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect {
        guard call.function == TextFunction.setTopic else { throw self.unknownFunction(call) }
        return try await TopicFunctions.setTopic(call, on: try call.interactable(), codec: self, context: context)
    }
}
