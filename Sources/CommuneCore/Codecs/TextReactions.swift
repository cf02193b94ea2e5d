import CommuneProtocol
import Logging

/// Emoji reactions in text channels: `add_reaction` and `remove_reaction {message_id, emoji}` (any member who can see
/// the channel), pushed to its viewers as `reaction_changed`; `get_reactors` lists who reacted; history carries the
/// counts with whether the reader reacted.
enum TextReactions {
    static func change(_ call: FunctionCall, on node: Interactable, codec: TextChannelCodec, context: FunctionContext) async throws(CommuneError)
        -> Effect
    {
        let community = context.community
        let reader = try call.payload()
        let messageID = try reader.int("message_id")
        let emoji = try reader.string("emoji")
        try EmojiPolicy.check(emoji, field: "data.payload.emoji")
        try await self.requireMessage(messageID, in: node, community: community)
        let adding = call.function == TextFunction.addReaction
        let reaction = Reaction(
            channelID: node.id, messageID: messageID, emoji: emoji, member: context.member.id, time: UnixTime.nowMilliseconds()
        )
        let configuration = community.configuration
        let change: ReactionChange
        do {
            if adding {
                let limits = ReactionLimits(
                    maxPerMessage: configuration.maxReactionsPerMessage, maxPerMember: configuration.maxReactionsPerMemberPerMessage
                )
                change = try await community.store.addReaction(reaction, limits: limits)
            } else {
                change = try await community.store.removeReaction(reaction)
            }
        } catch StoreError.storageFull {
            throw community.storageHealth.full("the reaction was not stored.")
        } catch {
            community.logger.error("Storing a reaction failed: \(error)")
            throw .internalError("The reaction could not be stored.")
        }
        let count: Int64
        let changed: Bool
        switch change {
        case .changed(let now):
            (count, changed) = (now, true)
        case .unchanged(let now):
            (count, changed) = (now, false)
        case .messageFull:
            throw CommuneError(
                .limitReached, "Message \(messageID) has \(configuration.maxReactionsPerMessage) different reactions, the most it may have."
            )
        case .memberFull:
            throw CommuneError(
                .limitReached,
                "You have \(configuration.maxReactionsPerMemberPerMessage) reactions on message \(messageID), the most one member may have."
            )
        }
        let result = codec.result(
            TextFunction.reactionChanged, at: call.address,
            [
                "message_id": .int(messageID), "emoji": .string(emoji), "count": .int(count), "user_id": .string(context.member.id.value),
                "added": .bool(adding),
            ]
        )
        guard changed else { return .reply(result) }
        return Effect(reply: result).publishing(result, to: Audience.viewers(ofChannel: node.id).excluding(context.connection))
    }

    /// `get_reactors {message_id, emoji, loaded?, amount?}`: who reacted with `emoji`, oldest first, a page at a time.
    static func reactors(_ call: FunctionCall, on node: Interactable, codec: TextChannelCodec, context: FunctionContext) async throws(CommuneError)
        -> Effect
    {
        let community = context.community
        let reader = try call.payload()
        let messageID = try reader.int("message_id")
        let emoji = try reader.string("emoji")
        try EmojiPolicy.check(emoji, field: "data.payload.emoji")
        let loaded = try reader.optionalInt("loaded") ?? 0
        let amount = try reader.optionalInt("amount") ?? 50
        guard loaded >= 0, loaded <= Int64(Int32.max) else { throw .invalidArgument("data.payload.loaded must be 0 or more.") }
        guard amount >= 1, amount <= 100 else { throw .invalidArgument("data.payload.amount must be between 1 and 100.") }
        try await self.requireMessage(messageID, in: node, community: community)
        let users: [UUIDString]
        do {
            users = try await community.store.reactors(channelID: node.id, messageID: messageID, emoji: emoji, skip: Int(loaded), limit: Int(amount))
        } catch {
            community.logger.error("Reading reactions failed: \(error)")
            throw .internalError("The reactions could not be read.")
        }
        let list: [JSONValue] = users.map { id in
            ["user_id": .string(id.value), "username": .string(community.member(id)?.username ?? "")]
        }
        return .reply(
            codec.result(TextFunction.reactors, at: call.address, ["message_id": .int(messageID), "emoji": .string(emoji), "users": .array(list)])
        )
    }

    /// Adds the reactions (with whether `viewer` reacted) to a page of a channel's messages; a removed message shows
    /// none (they stay stored, but nobody can react to it any more).
    static func withReactions(_ messages: [ChatMessage], channelID: Int64, viewer: UUIDString, community: Community) async throws(CommuneError)
        -> [ChatMessage]
    {
        let reactions: [Int64: [ReactionCount]]
        do {
            let shown = messages.filter { $0.senderID != nil }.map(\.messageID)
            reactions = try await community.store.reactions(channelID: channelID, messageIDs: shown, viewer: viewer)
        } catch {
            community.logger.error("Reading reactions failed: \(error)")
            throw .internalError("The messages could not be read.")
        }
        guard !reactions.isEmpty else { return messages }
        return messages.map { message in
            var message = message
            message.reactions = reactions[message.messageID] ?? []
            return message
        }
    }

    /// Throws `not_found` unless the channel has message `id` and it is not removed.
    static func requireMessage(_ id: Int64, in node: Interactable, community: Community) async throws(CommuneError) {
        let message: StoredMessage?
        do {
            message = try await community.store.message(channelID: node.id, messageID: id)
        } catch {
            throw .internalError("The message could not be read.")
        }
        guard let message else { throw .notFound("No message \(id) in '\(node.name)'.") }
        guard message.senderID != nil else { throw .notFound("Message \(id) was removed.") }
    }
}
