/// Names of the text codec's functions and results, in one place.
public enum TextFunction {
    public static let codec = "text"
    public static let sendMessage = "send_message"
    public static let getMessages = "get_messages"
    public static let messageReceived = "message_received"
    public static let messageChunk = "message_chunk"
    public static let messageLive = "message_live"
    public static let editMessage = "edit_message"
    public static let removeMessage = "remove_message"
    public static let messageEdited = "message_edited"
    public static let messageRemoved = "message_removed"
    public static let setTopic = "set_topic"
    public static let topicChanged = "topic_changed"
    public static let addReaction = "add_reaction"
    public static let removeReaction = "remove_reaction"
    public static let reactionChanged = "reaction_changed"
    public static let getReactors = "get_reactors"
    public static let reactors = "reactors"
    /// The text a removed message keeps (seed 002).
    public static let removedText = "*Message Removed*"
}
