import CommuneProtocol

/// Read state, the same on every device of a member: `mark_read {message_id}` on a channel whose codec keeps
/// messages (it lists ``markRead`` among its functions) moves the member's mark forward and tells their other
/// connections (`read_marked`); `get_read_state` on the community gives, for each such channel the member can
/// read, their mark, the newest message id, the unread count between them and how many of those unread messages
/// mention them or everyone.
///
/// Marks are written through ``ReadMarkBuffer`` (together, at most once a second), never per delivered message:
/// a member marks read when they have read, and the unread counts come from dense message ids.
public struct ReadStateFunctions: Capability {
    public static let markRead = "mark_read"
    public static let readMarked = "read_marked"
    public static let getReadState = "get_read_state"
    public static let readState = "read_state"

    public init() {}

    public var functions: [FunctionSpec] { [FunctionSpec(Self.getReadState)] }

    public var results: [String] { [Self.readState] }

    public func perform(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        let member = context.member
        let tree = community.tree
        let channels = tree.nodes.values
            .filter { node in
                (community.codecs[node.codec]?.functions.contains { $0.name == Self.markRead } ?? false)
                    && community.permissions.canRead(member, channel: node, in: tree)
            }
            .map { (node: $0, address: tree.address(of: $0)) }
            .sorted { ($0.address.path, $0.address.name) < ($1.address.path, $1.address.name) }
        let stored: [Int64: Int64]
        let last: [Int64: Int64]
        let mentions: [Int64: Int64]
        let pending = community.readMarks.marks(of: member.id)
        do {
            stored = try await community.store.readMarks(memberID: member.id)
            last = try await community.store.lastMessageIDs(channelIDs: channels.map(\.node.id))
            let marks = Dictionary(
                channels.map { ($0.node.id, max(stored[$0.node.id] ?? 0, pending[$0.node.id] ?? 0)) }, uniquingKeysWith: { first, _ in first }
            )
            mentions = try await community.store.mentionCounts(memberID: member.id, after: marks)
        } catch {
            throw .internalError("The read state could not be read.")
        }
        let entries: [JSONValue] = channels.map { channel in
            let newest = last[channel.node.id] ?? 0
            let read = min(max(stored[channel.node.id] ?? 0, pending[channel.node.id] ?? 0), newest)
            return [
                "path": .string(channel.address.path), "name": .string(channel.address.name), "codec": .string(channel.node.codec),
                "last_read": .int(read), "last_message_id": .int(newest), "unread": .int(newest - read),
                "mentions": .int(mentions[channel.node.id] ?? 0),
            ]
        }
        return .reply(CommunityFunctions.result(Self.readState, ["channels": .array(entries)]))
    }

    /// `mark_read {message_id}` on `node`: the member has read up to that message (0: nothing). A mark behind the
    /// current one is answered with the current one and changes nothing.
    public static func markRead(_ call: FunctionCall, on node: Interactable, codec: some ChannelCodec, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        let member = context.member
        let messageID = try call.payload().int("message_id")
        guard messageID >= 0 else { throw .invalidArgument("data.payload.message_id must be 0 or more, not \(messageID).") }
        // Reading along marks read again and again: after the first mark, this answers from memory (the newest id
        // is kept current by every send, the member's marks by every mark).
        var newest = community.readMarks.newestMessage(in: node.id) ?? -1
        let before: Int64
        do {
            if messageID > newest {
                newest = try await community.store.lastMessageIDs(channelIDs: [node.id])[node.id] ?? 0
                community.readMarks.messageStored(in: node.id, id: newest)
            }
            if let known = community.readMarks.knownMarks(of: member.id) {
                before = known[node.id] ?? 0
            } else {
                let stored = try await community.store.readMarks(memberID: member.id)
                community.readMarks.remember(stored, of: member.id)
                before = max(stored[node.id] ?? 0, community.readMarks.marks(of: member.id)[node.id] ?? 0)
            }
        } catch {
            throw .internalError("The read state could not be read.")
        }
        guard messageID <= newest else {
            throw .notFound("No message \(messageID) in '\(call.address)' (its newest is \(newest)).")
        }
        let mark = max(before, messageID)
        let result = codec.result(Self.readMarked, at: call.address, ["message_id": .int(mark), "unread": .int(newest - mark)])
        guard mark > before else { return .reply(result) }
        community.readMarks.keep(member: member.id, channel: node.id, messageID: mark)
        return Effect(reply: result).publishing(result, to: Audience.member(member.id).excluding(context.connection))
    }
}
