import CommuneProtocol
import Logging

/// Pinned messages in text channels: `pin_message` and `unpin_message {message_id}` (need `pin_messages`), pushed to
/// the channel's viewers as `pin_changed`; `get_pins` lists a channel's pins, the most recently pinned first.
enum TextPins {
    static func change(_ call: FunctionCall, on node: Interactable, codec: TextChannelCodec, context: FunctionContext) async throws(CommuneError)
        -> Effect
    {
        let community = context.community
        try community.permissions.require(.pinMessages, for: context.member)
        let reader = try call.payload()
        let messageID = try reader.int("message_id")
        let pinning = call.function == TextFunction.pinMessage
        var payload: [String: JSONValue] = ["message_id": .int(messageID), "pinned": .bool(pinning)]
        let changed: Bool
        do {
            if pinning {
                let message = try await self.pinnable(messageID, in: node, community: community)
                let pin = Pin(channelID: node.id, messageID: messageID, pinnedBy: context.member.id, time: UnixTime.nowMilliseconds())
                let limit = community.configuration.maxPinsPerChannel
                var shown = pin
                switch try await community.store.pin(pin, limit: limit) {
                case .pinned:
                    changed = true
                case .alreadyPinned(let earlier):
                    (changed, shown) = (false, earlier)
                case .full:
                    throw CommuneError(.limitReached, "'\(node.name)' has \(limit) pinned messages, the most it may have; unpin one first.")
                }
                payload = try await self.json(shown, message: message, community: community).objectValue ?? payload
                payload["pinned"] = .bool(true)
            } else {
                changed = try await community.store.unpin(channelID: node.id, messageID: messageID)
                payload["pinned_by"] = .string(context.member.id.value)
            }
        } catch let error as CommuneError {
            throw error
        } catch StoreError.storageFull {
            throw community.storageHealth.full("the pin was not stored.")
        } catch {
            community.logger.error("Changing a pin failed: \(error)")
            throw .internalError("The pin could not be changed.")
        }
        let result = codec.result(TextFunction.pinChanged, at: call.address, .object(payload))
        guard changed else { return .reply(result) }
        await community.audit(
            context.member, action: pinning ? .pinMessage : .unpinMessage, target: "\(call.address)",
            "\(pinning ? "pinned" : "unpinned") message \(messageID) in '\(call.address)'"
        )
        return Effect(reply: result).publishing(result, to: Audience.viewers(ofChannel: node.id).excluding(context.connection))
    }

    /// `get_pins {}`: every pin of the channel with its message, the most recently pinned first.
    static func list(_ call: FunctionCall, on node: Interactable, codec: TextChannelCodec, context: FunctionContext) async throws(CommuneError)
        -> Effect
    {
        let community = context.community
        let pins: [Pin]
        let messages: [StoredMessage]
        do {
            pins = try await community.store.pins(channelID: node.id)
            messages = try await community.store.messages(channelID: node.id, ids: pins.map(\.messageID))
        } catch {
            community.logger.error("Reading pins failed: \(error)")
            throw .internalError("The pins could not be read.")
        }
        let chat = try await TextReplies.chatMessages(messages, channelID: node.id, community: community)
        let byID = Dictionary(chat.map { ($0.messageID, $0) }, uniquingKeysWith: { first, _ in first })
        let list: [JSONValue] = pins.compactMap { pin in
            byID[pin.messageID].map { self.json(pin, chat: $0, community: community) }
        }
        return .reply(codec.result(TextFunction.pins, at: call.address, ["pins": .array(list)]))
    }

    /// The message to pin: it must exist and not be removed.
    static func pinnable(_ id: Int64, in node: Interactable, community: Community) async throws -> StoredMessage {
        guard let message = try await community.store.message(channelID: node.id, messageID: id) else {
            throw CommuneError.notFound("No message \(id) in '\(node.name)'.")
        }
        guard message.senderID != nil else { throw CommuneError.notFound("Message \(id) was removed; it cannot be pinned.") }
        return message
    }

    static func json(_ pin: Pin, message: StoredMessage, community: Community) async throws -> JSONValue {
        let chat = try await TextReplies.chatMessages([message], channelID: pin.channelID, community: community)[0]
        return self.json(pin, chat: chat, community: community)
    }

    /// A pin as `pin_changed` and `pins` carry it.
    static func json(_ pin: Pin, chat: ChatMessage, community: Community) -> JSONValue {
        [
            "message_id": .int(pin.messageID), "pinned_by": .string(pin.pinnedBy.value),
            "pinned_by_name": .string(community.member(pin.pinnedBy)?.username ?? ""), "pin_time": .int(pin.time), "message": chat.json,
        ]
    }
}
