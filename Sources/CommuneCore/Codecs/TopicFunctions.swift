import CommuneProtocol

/// A channel's topic (seed 004 "topic change"): any member reads it in the tree, `set_topic` needs `set_topic`.
///
/// Shared by the codecs that have a topic (text and voice) so that each keeps one line for it.
enum TopicFunctions {
    static let propertyKey = "topic"

    /// The topic as the tree shows it.
    static func treeData(for node: Interactable) -> [String: JSONValue] {
        ["topic": .string(node.properties[Self.propertyKey] ?? "")]
    }

    /// `set_topic {topic}`: `""` clears it. The channel's viewers receive `topic_changed` addressed at the channel.
    static func setTopic(_ call: FunctionCall, on node: Interactable, codec: some ChannelCodec, context: FunctionContext)
        async throws(CommuneError) -> Effect
    {
        let community = context.community
        try community.permissions.require(.setTopic, for: context.member)
        let topic = try TextPolicy.line(try call.payload().string("topic"), field: "data.payload.topic")
        let limit = community.configuration.maxTopicLength
        guard topic.unicodeScalars.count <= limit else { throw .init(.tooLarge, "The topic must be at most \(limit) characters.") }
        var properties = node.properties
        properties[Self.propertyKey] = topic.isEmpty ? nil : topic
        try await community.setProperties(properties, of: node)
        await community.audit(context.member, action: .setTopic, target: "\(call.address)", "set the topic of '\(call.address)'")
        return .broadcast(codec.result(TextFunction.topicChanged, at: call.address, ["topic": .string(topic)]), to: .viewers(ofChannel: node.id))
    }
}
