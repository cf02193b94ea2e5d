import CommuneProtocol
import Logging

/// Full-text search of the messages a member may read: `search {query, channel?, author?, before?, after?, cursor?,
/// amount?}` → `search_results {results, next_cursor}`, newest first, each result with what a client needs to show
/// the message in its channel (`path`, `name`, `message_id`) and a `snippet` around the first word found.
///
/// The query is words, never syntax (``SearchQuery``); the store runs it (``SearchStore``) over the channels
/// ``PermissionChecker/canRead(_:channel:in:)`` allows, narrowed by the `channel` filter (a category means every
/// channel in it).
struct SearchFunctions: Capability {
    static let search = "search"
    static let searchResults = "search_results"
    /// Results per page: `amount` defaults to this.
    static let defaultAmount: Int64 = 25
    /// The most results one page may ask for.
    static let maxAmount: Int64 = 50
    /// The longest `cursor` a server hands out.
    static let maxCursorLength = 64

    var functions: [FunctionSpec] { [FunctionSpec(Self.search)] }

    var results: [String] { [Self.searchResults] }

    func perform(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        let reader = try call.payload()
        let query = try SearchQuery(try reader.string("query"))
        let amount = try reader.optionalInt("amount") ?? Self.defaultAmount
        guard (1...Self.maxAmount).contains(amount) else {
            throw .invalidArgument("data.payload.amount must be between 1 and \(Self.maxAmount).")
        }
        var author: UUIDString?
        if try reader.optionalString("author") != nil { author = try reader.uuid("author") }
        let before = try reader.optionalInt("before")
        let after = try reader.optionalInt("after")
        if let before, before < 0 { throw .invalidArgument("data.payload.before must be a time in Unix milliseconds (0 or more).") }
        if let after, after < 0 { throw .invalidArgument("data.payload.after must be a time in Unix milliseconds (0 or more).") }
        if let before, let after, after >= before {
            throw .invalidArgument("data.payload.after must be earlier than data.payload.before.")
        }
        let cursor = try reader.optionalString("cursor")
        if let cursor, cursor.isEmpty || cursor.utf8.count > Self.maxCursorLength {
            throw .invalidArgument("data.payload.cursor must be the next_cursor of an earlier search_results.")
        }
        let tree = community.tree
        let filter = try Self.filterAddress(reader)
        let scope = try Self.scope(filter, tree: tree)
        let readable = Set(scope.filter { community.permissions.canRead(context.member, channel: $0, in: tree) }.map(\.id))
        if let filter, readable.isEmpty {
            // A channel filter naming a channel the member may not read says no more than an unknown one.
            throw .notFound("No channel '\(filter)'.")
        }
        let search = MessageSearch(
            query: query, channelIDs: readable, author: author, before: before, after: after, cursor: cursor, limit: Int(amount) + 1
        )
        let hits: [SearchHit]
        do {
            hits = try await community.store.searchMessages(search)
        } catch is SearchCursorError {
            throw .invalidArgument("data.payload.cursor must be the next_cursor of an earlier search_results.")
        } catch {
            community.logger.error("Searching messages failed: \(error)")
            throw .internalError("The search could not be run.")
        }
        let page = hits.prefix(Int(amount))
        let results: [JSONValue] = page.compactMap { hit in
            guard let node = tree.nodes[hit.message.channelID] else { return nil }
            let address = tree.address(of: node)
            let message = hit.message
            return [
                "path": .string(address.path), "name": .string(address.name), "message_id": .int(message.messageID),
                "sender_id": message.senderID.map { .string($0.value) } ?? .null, "send_time": .int(message.sendTime),
                "kind": .string(message.kind.rawValue), "edited": .bool(message.edited), "snippet": .string(query.snippet(of: message.text)),
            ]
        }
        let next: JSONValue = hits.count > Int(amount) ? .string(page.last!.cursor) : .null
        return .reply(CommunityFunctions.result(Self.searchResults, ["results": .array(results), "next_cursor": next]))
    }

    /// The `channel` filter's address, if the payload has one.
    static func filterAddress(_ reader: PayloadReader) throws(CommuneError) -> ChannelAddress? {
        guard let value = reader.object["channel"], value != .null else { return nil }
        let filter = try PayloadReader(value, context: "data.payload.channel")
        return ChannelAddress(path: try filter.string("path"), name: try filter.string("name"))
    }

    /// The nodes to look in: the filter's channel (a category: it and everything under it), else the whole tree.
    static func scope(_ filter: ChannelAddress?, tree: InteractableTree) throws(CommuneError) -> [Interactable] {
        guard let address = filter else { return Array(tree.nodes.values) }
        guard let node = tree.node(at: address) else { throw .notFound("No channel '\(address)'.") }
        var found: [Interactable] = []
        var pending = [node]
        // Bounded by the tree's size: each node is visited once.
        while let next = pending.popLast(), found.count <= tree.nodes.count {
            found.append(next)
            pending.append(contentsOf: tree.children(of: next.id))
        }
        return found
    }
}
