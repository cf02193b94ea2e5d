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

    /// `set_topic {topic}`: `""` clears it. Every member receives `topic_changed` addressed at the channel.
    static func setTopic(_ request: FunctionRequest, on node: Interactable, address: ChannelAddress, codec: String, context: FunctionContext)
        async throws(CommuneError) -> FunctionResult
    {
        let community = context.community
        try community.permissions.require(.setTopic, for: context.member)
        let topic = try PayloadReader(request.payload, context: "data.payload").string("topic").trimmingWhitespaceAndNewlines()
        let limit = community.configuration.maxTopicLength
        guard topic.unicodeScalars.count <= limit else { throw .init(.tooLarge, "The topic must be at most \(limit) characters.") }
        var properties = node.properties
        properties[Self.propertyKey] = topic.isEmpty ? nil : topic
        do {
            try await community.store.setProperties(properties, of: node.id)
        } catch {
            throw .internalError("The topic could not be saved.")
        }
        try await community.reloadTree()
        await community.audit(context.member, "set the topic of '\(address)'")
        let update = FunctionResult(codec: codec, address: address, result: TextFunction.topicChanged, payload: ["topic": .string(topic)])
        context.publisher.publish(update, excluding: nil)
        return update
    }
}
