import CommuneCore
import CommuneProtocol
import Foundation

/// A channel codec defined outside Commune's sources: a poll. Registered with
/// `CodecRegistry.standard.adding(PollCodec())`; the server needs no other change.
///
/// - `create {codec: "poll", question, options}`: `options` are 2 to 10 different non-empty strings.
/// - `vote {option}`: one vote a member, changeable. The voter gets `tally` as the reply; the channel's other
///   connections get it as an update; the holders of `manage_channels` get `voters_changed` (who voted what).
/// - `get_results` → `tally`; `get_voters` (needs `manage_channels`) → `voters`.
/// - `remind {user_id}`: a member who has not voted gets `reminder` on every connection they have.
/// - `show_ballot`: the connection that asks, and only that one (not the member's other devices), gets `ballot`
///   with the poll and the member's own vote.
///
/// Everything lives in the node's properties: `question`, `options` (a JSON array) and `vote.<user_id>` = option.
struct PollCodec: ChannelCodec {
    let name = "poll"

    static let vote = "vote"
    static let getResults = "get_results"
    static let getVoters = "get_voters"
    static let remind = "remind"
    static let showBallot = "show_ballot"

    static let tally = "tally"
    static let voters = "voters"
    static let votersChanged = "voters_changed"
    static let reminder = "reminder"
    static let reminded = "reminded"
    static let ballot = "ballot"
    static let ballotShown = "ballot_shown"

    static let optionLimit = 2...10
    static let maxLength = 100

    /// Votes change one property and write them all back; one at a time, so two votes at once keep both.
    private let writes = SerialWrites()

    var functions: [FunctionSpec] {
        [Self.vote, Self.getResults, Self.getVoters, Self.remind, Self.showBallot].map { FunctionSpec($0) }
    }

    var results: [String] {
        [Self.tally, Self.voters, Self.votersChanged, Self.reminder, Self.reminded, Self.ballot, Self.ballotShown]
    }

    func treeData(for node: Interactable, in community: Community) -> [String: JSONValue] {
        Poll(node.properties)?.summary ?? [:]
    }

    func creationProperties(_ reader: PayloadReader, in community: Community) throws(CommuneError) -> [String: String] {
        let question = try Self.text(try reader.string("question"), field: "data.payload.question")
        guard let value = reader.object["options"] else { throw .invalidArgument("data.payload.options is required.") }
        guard let list = value.arrayValue else {
            throw .invalidArgument("data.payload.options must be an array of strings, not \(value.typeName).")
        }
        guard Self.optionLimit.contains(list.count) else {
            let (low, high) = (Self.optionLimit.lowerBound, Self.optionLimit.upperBound)
            throw .invalidArgument("data.payload.options must have \(low) to \(high) options, not \(list.count).")
        }
        var options: [String] = []
        for (index, item) in list.enumerated() {
            let field = "data.payload.options[\(index)]"
            guard let raw = item.stringValue else { throw .invalidArgument("\(field) must be a string, not \(item.typeName).") }
            let option = try Self.text(raw, field: field)
            guard !options.contains(option) else { throw .invalidArgument("\(field) repeats '\(option)'.") }
            options.append(option)
        }
        return Poll(question: question, options: options).properties
    }

    /// `raw` trimmed: not empty, at most ``maxLength`` characters.
    static func text(_ raw: String, field: String) throws(CommuneError) -> String {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw .invalidArgument("\(field) must not be empty.") }
        guard text.unicodeScalars.count <= Self.maxLength else {
            throw .invalidArgument("\(field) must be at most \(Self.maxLength) characters.")
        }
        return text
    }

    func perform(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect {
        let node = try call.interactable()
        switch call.function {
        case Self.vote:
            return try await self.writes.run { () async throws(CommuneError) -> Effect in
                try await self.vote(call, on: node.id, context: context)
            }
        case Self.getResults:
            return .reply(self.result(Self.tally, at: call.address, .object(try self.poll(node.id, context).summary)))
        case Self.getVoters:
            try context.community.permissions.require(.manageChannels, for: context.member)
            return .reply(self.result(Self.voters, at: call.address, try self.poll(node.id, context).votersJSON))
        case Self.remind:
            return try self.remind(call, on: node.id, context: context)
        case Self.showBallot:
            let poll = try self.poll(node.id, context)
            var ballot = poll.summary
            ballot["your_vote"] = poll.votes[context.member.id].map(JSONValue.string) ?? .null
            return Effect(reply: self.result(Self.ballotShown, at: call.address))
                .publishing(self.result(Self.ballot, at: call.address, .object(ballot)), to: .connection(context.connection))
        default:
            throw self.unknownFunction(call)
        }
    }

    /// The poll with node id `id` as the community holds it now (not as it was when the call was resolved).
    func poll(_ id: Int64, _ context: FunctionContext) throws(CommuneError) -> Poll {
        guard let node = context.community.interactable(id) else { throw .notFound("The poll was removed.") }
        guard let poll = Poll(node.properties) else { throw .internalError("The poll '\(node.name)' has unreadable properties.") }
        return poll
    }

    func vote(_ call: FunctionCall, on id: Int64, context: FunctionContext) async throws(CommuneError) -> Effect {
        let option = try call.payload().string("option")
        var poll = try self.poll(id, context)
        guard poll.options.contains(option) else {
            throw .invalidArgument("data.payload.option must be one of \(poll.options.joined(separator: ", ")).")
        }
        guard poll.votes[context.member.id] != option else {
            return .reply(self.result(Self.tally, at: call.address, .object(poll.summary)))
        }
        poll.votes[context.member.id] = option
        guard let node = context.community.interactable(id) else { throw .notFound("The poll was removed.") }
        try await context.community.setProperties(poll.properties, of: node)
        let tally = self.result(Self.tally, at: call.address, .object(poll.summary))
        return Effect(reply: tally)
            .publishing(self.result(Self.votersChanged, at: call.address, poll.votersJSON), to: .holders(of: .manageChannels))
            .publishing(tally, to: Audience.viewers(ofChannel: id).excluding(context.connection))
    }

    func remind(_ call: FunctionCall, on id: Int64, context: FunctionContext) throws(CommuneError) -> Effect {
        let target = try call.payload().uuid("user_id")
        guard let member = context.community.member(target) else {
            throw .invalidArgument("data.payload.user_id must be the user_id of a member of this community.")
        }
        let poll = try self.poll(id, context)
        guard poll.votes[target] == nil else { throw .invalidArgument("\(member.username) has voted already.") }
        var reminder = poll.summary
        reminder["from"] = .string(context.member.id.value)
        return Effect(reply: self.result(Self.reminded, at: call.address, ["user_id": .string(target.value)]))
            .publishing(self.result(Self.reminder, at: call.address, .object(reminder)), to: .member(target))
    }
}

/// A poll as its node's properties hold it.
struct Poll: Sendable, Equatable {
    var question: String
    var options: [String]
    var votes: [UUIDString: String] = [:]

    static let votePrefix = "vote."

    init(question: String, options: [String]) {
        self.question = question
        self.options = options
    }

    init?(_ properties: [String: String]) {
        guard let question = properties["question"], let encoded = properties["options"],
            let options = (try? JSONValue.parse(encoded))?.arrayValue?.compactMap(\.stringValue)
        else { return nil }
        self.question = question
        self.options = options
        for (key, option) in properties where key.hasPrefix(Self.votePrefix) {
            if let voter = UUIDString(String(key.dropFirst(Self.votePrefix.count))) { self.votes[voter] = option }
        }
    }

    var properties: [String: String] {
        var properties = ["question": self.question, "options": JSONValue.array(self.options.map(JSONValue.string)).jsonString]
        for (voter, option) in self.votes { properties[Self.votePrefix + voter.value] = option }
        return properties
    }

    /// `{question, options, tally: {option: count}, votes}`: the tree's data and the `tally` payload.
    var summary: [String: JSONValue] {
        var counts = Dictionary(uniqueKeysWithValues: self.options.map { ($0, Int64(0)) })
        for option in self.votes.values where counts[option] != nil { counts[option]! += 1 }
        return [
            "question": .string(self.question),
            "options": .array(self.options.map(JSONValue.string)),
            "tally": .object(counts.mapValues(JSONValue.int)),
            "votes": .int(counts.values.reduce(0, +)),
        ]
    }

    /// `{voters: {user_id: option}}`.
    var votersJSON: JSONValue {
        ["voters": .object(Dictionary(uniqueKeysWithValues: self.votes.map { ($0.key.value, JSONValue.string($0.value)) }))]
    }
}

/// Runs async bodies one at a time, in the order they asked.
actor SerialWrites {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func run<T: Sendable>(_ body: @Sendable () async throws(CommuneError) -> T) async throws(CommuneError) -> T {
        if self.busy {
            await withCheckedContinuation { self.waiting.append($0) }
        } else {
            self.busy = true
        }
        defer {
            if self.waiting.isEmpty { self.busy = false } else { self.waiting.removeFirst().resume() }
        }
        return try await body()
    }
}
