import CommuneProtocol
import Logging

/// Replies in text channels: `send_message`'s `reply_to`, checked before anything is stored, and the preview of the
/// original that every reply carries in history and live updates.
enum TextReplies {
    /// The message `data.payload.reply_to` names in this channel (as stored), checked: it must exist and not be removed.
    /// Message numbers are per channel, so a number copied from another channel or community names this channel's
    /// message of that number, or none.
    static func replyTo(_ reader: PayloadReader, on node: Interactable, context: FunctionContext) async throws(CommuneError) -> StoredMessage? {
        guard let id = try reader.optionalInt("reply_to") else { return nil }
        guard id >= 1 else { throw .invalidArgument("data.payload.reply_to must be a message_id (1 or more).") }
        let original: StoredMessage?
        do {
            original = try await context.community.store.message(channelID: node.id, messageID: id)
        } catch {
            throw .internalError("The message replied to could not be read.")
        }
        guard let original else { throw .notFound("No message \(id) in this channel to reply to.") }
        guard original.senderID != nil else { throw .notFound("Message \(id) was removed; it cannot be replied to.") }
        return original
    }

    /// The wire form of `messages` (of one channel), each reply with the preview of its original as it is now (a
    /// removed reply shows no preview: it shows nothing of what it was).
    static func chatMessages(_ messages: [StoredMessage], channelID: Int64, community: Community) async throws(CommuneError) -> [ChatMessage] {
        let ids = Set(messages.filter { $0.senderID != nil }.compactMap(\.replyTo))
        var originals: [Int64: StoredMessage] = [:]
        if !ids.isEmpty {
            // The originals already in the page need no second read.
            for message in messages where ids.contains(message.messageID) { originals[message.messageID] = message }
            let missing = ids.filter { originals[$0] == nil }
            if !missing.isEmpty {
                do {
                    for original in try await community.store.messages(channelID: channelID, ids: Array(missing)) {
                        originals[original.messageID] = original
                    }
                } catch {
                    community.logger.error("Reading replied messages failed: \(error)")
                    throw .internalError("The messages could not be read.")
                }
            }
        }
        return messages.map { message in
            var chat = message.chatMessage
            if let id = message.replyTo, message.senderID != nil { chat.replyTo = self.preview(of: originals[id], id: id, community: community) }
            return chat
        }
    }

    /// The preview of `original` (message `id`); a missing original shows as removed.
    static func preview(of original: StoredMessage?, id: Int64, community: Community) -> ReplyPreview {
        guard let original, let sender = original.senderID else {
            return ReplyPreview(messageID: id, senderID: nil, senderName: "", text: "", removed: true)
        }
        return ReplyPreview(
            messageID: id, senderID: sender, senderName: community.member(sender)?.username ?? "",
            text: ReplyPreview.firstLine(of: original.text), removed: false
        )
    }
}
