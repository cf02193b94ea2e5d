import CommuneProtocol

/// The typing indicator: `typing {}` says the member is writing in the channel. The reply is `member_typing
/// {user_id}`; the channel's other viewers get the same as an update, at most once per member and channel per
/// ``TypingThrottle/window`` (calls in between are answered the same but not broadcast). Nothing is stored; clients
/// let an indicator expire by itself and clear it when that member's message arrives.
enum TextTyping {
    /// The server's one throttle: members are told apart by their random user ids, so communities in one process
    /// (tests) do not meet in it.
    static let throttle = TypingThrottle()

    static func typing(_ call: FunctionCall, on node: Interactable, codec: TextChannelCodec, context: FunctionContext) throws(CommuneError)
        -> Effect
    {
        _ = try call.payload()
        let community = context.community
        guard community.permissions.canRead(context.member, channel: node, in: community.tree) else { throw .notFound("No channel '\(call.address)'.") }
        let result = codec.result(TextFunction.memberTyping, at: call.address, ["user_id": .string(context.member.id.value)])
        guard self.throttle.shouldBroadcast(member: context.member.id, channel: node.id) else { return .reply(result) }
        return Effect(reply: result).publishing(result, to: Audience.viewers(ofChannel: node.id).excluding(context.connection))
    }
}
