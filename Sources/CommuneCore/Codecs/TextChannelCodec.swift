import CommuneProtocol
import Logging

/// A text channel: `send_message` (with replies, ``TextReplies``), `get_messages`, `edit_message`, `remove_message`,
/// `set_topic`, reactions (``TextReactions``), pins (``TextPins``), mentions (``TextMentions``), and their updates.
public struct TextChannelCodec: ChannelCodec {
    public let name = TextFunction.codec

    public init() {}

    public var functions: [FunctionSpec] {
        [
            FunctionSpec(TextFunction.sendMessage, pipelined: true), FunctionSpec(TextFunction.getMessages),
            FunctionSpec(TextFunction.addReaction), FunctionSpec(TextFunction.removeReaction), FunctionSpec(TextFunction.getReactors),
            FunctionSpec(TextFunction.pinMessage), FunctionSpec(TextFunction.unpinMessage), FunctionSpec(TextFunction.getPins),
            FunctionSpec(TextFunction.editMessage), FunctionSpec(TextFunction.removeMessage), FunctionSpec(TextFunction.setTopic),
            FunctionSpec(TextFunction.typing),
            FunctionSpec(ReadStateFunctions.markRead),
        ]
    }

    public var results: [String] {
        [
            TextFunction.messageReceived, TextFunction.messageLive, TextFunction.messageChunk, TextFunction.messageEdited,
            TextFunction.messageRemoved, TextFunction.topicChanged,
            TextFunction.memberTyping,
            TextFunction.reactionChanged, TextFunction.reactors, TextFunction.pinChanged, TextFunction.pins,
            ReadStateFunctions.readMarked,
        ]
    }

    /// The seed's example tree has a text channel `General` in the category `General`, and `Rules` at the top.
    public var defaultNodes: [DefaultNode] {
        [DefaultNode(path: "", name: "Rules", position: 1), DefaultNode(path: "General", name: "General", position: 0)]
    }

    public func treeData(for node: Interactable, in community: Community) -> [String: JSONValue] {
        TopicFunctions.treeData(for: node)
    }

    public func perform(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect {
        let node = try call.interactable()
        switch call.function {
        case TextFunction.sendMessage:
            return try await self.sendMessage(call, on: node, context: context)
        case TextFunction.getMessages:
            return try await self.getMessages(call, on: node, context: context)
        case TextFunction.setTopic:
            return try await TopicFunctions.setTopic(call, on: node, codec: self, context: context)
        case TextFunction.editMessage, TextFunction.removeMessage:
            return try await self.changeMessage(call, on: node, context: context)
        case TextFunction.addReaction, TextFunction.removeReaction:
            return try await TextReactions.change(call, on: node, codec: self, context: context)
        case TextFunction.getReactors:
            return try await TextReactions.reactors(call, on: node, codec: self, context: context)
        case TextFunction.pinMessage, TextFunction.unpinMessage:
            return try await TextPins.change(call, on: node, codec: self, context: context)
        case TextFunction.getPins:
            return try await TextPins.list(call, on: node, codec: self, context: context)
        case ReadStateFunctions.markRead:
            return try await ReadStateFunctions.markRead(call, on: node, codec: self, context: context)
        case TextFunction.typing:
            return try TextTyping.typing(call, on: node, codec: self, context: context)
        default:
            throw self.unknownFunction(call)
        }
    }

    /// `edit_message {message_id, message}` and `remove_message {message_id}`: the author may change their own
    /// messages; anyone else needs `change_messages` and more power than the author. A removed message keeps its
    /// slot with the text `*Message Removed*` and no sender.
    func changeMessage(_ call: FunctionCall, on node: Interactable, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        let address = call.address
        let reader = try call.payload()
        let messageID = try reader.int("message_id")
        let removing = call.function == TextFunction.removeMessage
        var text = TextFunction.removedText
        var mentions: (members: [UUIDString], everyone: Bool) = ([], false)
        if !removing {
            text = try reader.string("message")
            try Self.validate(message: text, limit: community.configuration.maxMessageLength)
            mentions = try TextMentions.resolve(text, context: context)
        }
        let existing: StoredMessage?
        do {
            existing = try await community.store.message(channelID: node.id, messageID: messageID)
        } catch {
            throw .internalError("The message could not be read.")
        }
        guard let existing else { throw .notFound("No message \(messageID) in '\(address)'.") }
        guard let author = existing.senderID else { throw .notFound("Message \(messageID) was removed.") }
        if author != context.member.id {
            let checker = community.permissions
            if let authorMember = community.member(author) {
                try checker.require(.changeMessages, for: context.member, over: authorMember)
            } else {
                try checker.require(.changeMessages, for: context.member)
            }
        }
        let sender: UUIDString? = removing ? nil : author
        do {
            try await community.store.updateMessage(
                channelID: node.id, messageID: messageID, text: text, senderID: sender, mentions: mentions.members, everyone: mentions.everyone
            )
        } catch {
            throw .internalError("The message could not be changed.")
        }
        if author != context.member.id {
            await community.audit(
                context.member, action: removing ? .removeMessage : .editMessage, target: "\(address)",
                "\(removing ? "removed" : "edited") message \(messageID) in '\(address)'"
            )
        }
        var updated = existing
        updated.text = text
        updated.senderID = sender
        updated.edited = !removing
        (updated.mentions, updated.mentionsEveryone) = mentions
        if removing { updated.attachments = [] }
        let changed = try await TextReplies.chatMessages([updated], channelID: node.id, community: community)[0]
        let result = self.result(removing ? TextFunction.messageRemoved : TextFunction.messageEdited, at: address, changed.json)
        return .broadcast(result, to: Audience.viewers(ofChannel: node.id).excluding(context.connection))
    }

    /// Validates, commits, then acknowledges to the sender and pushes `message_live` to the channel's other viewers
    /// (again on a resend).
    ///
    /// `{message, kind?, number?, attachments?, reply_to?}`: `kind` `action` is a `/me` action; `number` is the sender's own
    /// increasing number for the message, so that a resend after a lost reply returns the first reply instead of
    /// storing the message twice; `attachments` are ids the sender uploaded (then `message` may be empty); `reply_to`
    /// is the number of the message in this channel it answers (``TextReplies``).
    func sendMessage(_ call: FunctionCall, on node: Interactable, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        let reader = try call.payload()
        let text = try reader.string("message")
        let kindName = try reader.optionalString("kind") ?? MessageKind.text.rawValue
        guard let kind = MessageKind(rawValue: kindName) else {
            throw .invalidArgument("data.payload.kind must be one of \(MessageKind.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        let number = try reader.optionalInt("number")
        if let number, number < 1 { throw .invalidArgument("data.payload.number must be 1 or more.") }
        let attachments = try await Self.attachments(reader, context: context)
        if attachments.isEmpty || !text.isEmpty {
            try Self.validate(message: text, limit: community.configuration.maxMessageLength)
        }
        let original = try await TextReplies.replyTo(reader, on: node, context: context)
        let replyTo = original?.messageID
        let mentions = try TextMentions.resolve(text, context: context)
        let viewers = Audience.viewers(ofChannel: node.id).excluding(context.connection)
        let new = NewMessage(
            channelID: node.id, senderID: context.member.id, text: text, sendTime: UnixTime.nowMilliseconds(), kind: kind,
            attachments: attachments, senderNumber: number, replyTo: replyTo, mentions: mentions.members, mentionsEveryone: mentions.everyone
        )
        let appended: AppendedMessage
        // With several nodes on a store that can, `message_live` enters the cluster's stream in the message's own
        // transaction (one commit); otherwise it is published after the commit (``Effect/publishing(_:to:)``).
        let publisher = community.streamPublisher
        let streaming = publisher == nil ? nil : community.store as? any StreamingMessageStore
        if let publisher, streaming != nil, !(await publisher.queuedCommitted()) {
            community.logger.warning("A message was refused: this node's earlier records for the cluster's stream are not committed yet")
            throw .internalError("The message was not sent: the server cannot reach its database just now. Try again.")
        }
        do {
            if let publisher, let streaming {
                let preview = replyTo.map { TextReplies.preview(of: original, id: $0, community: community) }
                let address = call.address
                appended = try await streaming.appendMessage(new) { stored in
                    var live = stored.chatMessage
                    live.replyTo = preview
                    return [publisher.record(self.result(TextFunction.messageLive, at: address, live.json), viewers)]
                }
                if appended.isNew { publisher.committed() }
            } else {
                appended = try await community.store.appendMessage(new)
            }
        } catch StoreError.storageFull {
            throw community.storageHealth.full("the message was not stored.")
        } catch {
            community.logger.error("Storing a message failed: \(error)")
            throw .internalError("The message could not be stored; it was not sent.")
        }
        community.storageHealth.wrote()
        let stored = appended.message
        // Read state counts unread messages from each channel's newest id; the sender has read up to their message.
        // No update says so: every device of the sender applies its own `message_live` as a mark (PROTOCOL, mark_read).
        if appended.isNew {
            community.readMarks.messageStored(in: stored.channelID, id: stored.messageID)
            community.readMarks.sent(by: context.member.id, channel: stored.channelID, messageID: stored.messageID)
        }
        if !appended.isNew, stored.channelID != node.id {
            throw .invalidArgument("data.payload.number \(number ?? 0) was already used for a message in another channel.")
        }
        if !appended.isNew, stored.text != text || stored.kind != kind || stored.replyTo != replyTo {
            // Not a resend: two devices sharing one identity, or a client that reset its counter. Say so rather
            // than answer with the other message and lose this one.
            throw .invalidArgument("data.payload.number \(number ?? 0) was already used for a different message; use a new number.")
        }
        let reply = self.result(
            TextFunction.messageReceived, at: call.address, ["message_id": .int(stored.messageID), "send_time": .int(stored.sendTime)]
        )
        // A resend publishes the message again: the first `message_live` may never have left a node that stopped
        // between storing the message and publishing it. Clients apply `message_live` by id, so a repeat is harmless.
        if appended.isNew, streaming != nil { return Effect(reply: reply) }
        let live = try await TextReplies.chatMessages([stored], channelID: node.id, community: community)[0]
        return Effect(reply: reply).publishing(self.result(TextFunction.messageLive, at: call.address, live.json), to: viewers)
    }

    /// The attachments a message names: at most `maxAttachments`, each uploaded by the sender.
    static func attachments(_ reader: PayloadReader, context: FunctionContext) async throws(CommuneError) -> [AttachmentInfo] {
        guard let value = reader.object["attachments"], value != .null else { return [] }
        guard let ids = value.arrayValue else {
            throw .invalidArgument("data.payload.attachments must be an array of attachment ids, not \(value.typeName).")
        }
        let limit = context.community.configuration.maxAttachmentsPerMessage
        guard ids.count <= limit else { throw .invalidArgument("A message may carry at most \(limit) attachments.") }
        var found: [AttachmentInfo] = []
        for (index, id) in ids.enumerated() {
            guard let id = id.stringValue else {
                throw .invalidArgument("data.payload.attachments[\(index)] must be a string, not \(id.typeName).")
            }
            let record: (info: AttachmentInfo, uploader: UUIDString)?
            do {
                record = try await context.community.store.attachment(id)
            } catch {
                throw .internalError("The attachment could not be read.")
            }
            guard let record, record.uploader == context.member.id else {
                throw .notFound("No attachment '\(id)' uploaded by you; upload it first with POST /api/attachments.")
            }
            found.append(record.info)
        }
        return found
    }

    func getMessages(_ call: FunctionCall, on node: Interactable, context: FunctionContext) async throws(CommuneError) -> Effect {
        let configuration = context.community.configuration
        let reader = try call.payload()
        let loaded = try reader.optionalInt("loaded_messages") ?? 0
        let amount = try reader.optionalInt("amount") ?? Int64(configuration.defaultHistoryPage)
        let before = try reader.optionalInt("before")
        guard loaded >= 0, loaded <= Int64(Int32.max) else {
            throw .invalidArgument("data.payload.loaded_messages must be 0 or more.")
        }
        guard amount >= 1, amount <= Int64(configuration.maxHistoryPage) else {
            throw .invalidArgument("data.payload.amount must be between 1 and \(configuration.maxHistoryPage).")
        }
        if let before, before < 1 {
            throw .invalidArgument("data.payload.before must be a message_id (1 or more).")
        }
        let messages: [StoredMessage]
        do {
            messages = try await context.community.store.messages(
                channelID: node.id, before: before, skip: Int(loaded), limit: Int(amount)
            )
        } catch {
            context.community.logger.error("Reading messages failed: \(error)")
            throw .internalError("The messages could not be read.")
        }
        let replies = try await TextReplies.chatMessages(messages, channelID: node.id, community: context.community)
        let chat = try await TextReactions.withReactions(replies, channelID: node.id, viewer: context.member.id, community: context.community)
        return .reply(self.result(TextFunction.messageChunk, at: call.address, ["messages": .array(chat.map(\.json))]))
    }

    /// A message must show something (not only white space or invisible characters), hold no control character but
    /// TAB, LF and CR (``TextPolicy/checkMessage(_:field:)``), and have at most `limit` Unicode code points.
    public static func validate(message: String, limit: Int) throws(CommuneError) {
        try TextPolicy.checkMessage(message, field: "data.payload.message")
        let length = message.unicodeScalars.count
        if length > limit {
            throw .init(.tooLarge, "The message has \(length) characters; the limit is \(limit).")
        }
    }
}
