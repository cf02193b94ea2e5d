import CommuneProtocol

/// What a function call decided should happen: the reply to the caller, the updates to push and to whom, and the
/// members whose connections must close.
///
/// Handlers return an effect instead of publishing themselves; the caller's connection applies it after the
/// connection's earlier requests have been answered, so replies and updates go out in request order without any
/// handler knowing about ordering (as swift-nio's state machines return an action for the channel handler to run).
public struct Effect: Sendable {
    /// The `function` reply to the caller.
    public var reply: FunctionResult
    /// Updates to push, in order, each to its audience.
    public var updates: [Update]
    /// Members removed or banned: their connections close (after what was queued for them) before the updates go out.
    public var disconnects: [Disconnect]

    public init(reply: FunctionResult, updates: [Update] = [], disconnects: [Disconnect] = []) {
        self.reply = reply
        self.updates = updates
        self.disconnects = disconnects
    }

    /// A reply and no updates.
    public static func reply(_ reply: FunctionResult) -> Effect {
        Effect(reply: reply)
    }

    /// Replies with `result` and pushes the same result to `audience` as an update.
    public static func broadcast(_ result: FunctionResult, to audience: Audience) -> Effect {
        Effect(reply: result, updates: [Update(result, to: audience)])
    }

    /// This effect with one more update.
    public func publishing(_ update: FunctionResult, to audience: Audience) -> Effect {
        var effect = self
        effect.updates.append(Update(update, to: audience))
        return effect
    }
}

/// One `update` and who receives it.
public struct Update: Sendable {
    public var result: FunctionResult
    public var audience: Audience

    public init(_ result: FunctionResult, to audience: Audience) {
        self.result = result
        self.audience = audience
    }
}

/// Closing every connection of a member, with the reason the close frame carries.
public struct Disconnect: Sendable, Hashable {
    public var member: UUIDString
    public var reason: String

    public init(member: UUIDString, reason: String) {
        self.member = member
        self.reason = reason
    }
}
