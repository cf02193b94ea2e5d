import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Testing

/// A codec defined in the test target (``PollCodec``) runs on a real server with no change to the server's sources;
/// and updates addressed to one member, one connection and a permission's holders reach them and no one else.
///
/// "Does not receive" is checked without sleeping: a later update that every connection gets (a `tally`) is the
/// marker, and a connection's updates up to it must not hold the private one. A connection's frames go out in the
/// order they were queued, so a private update wrongly sent would have come before the marker.
@Suite("A codec from the test target: polls over real connections")
struct CustomCodecTests {
    let lunch = ChannelAddress(path: "", name: "Lunch")

    /// The standard codecs and features, plus polls.
    static func withPolls(_ configuration: inout ServerConfiguration) {
        configuration.codecs = CodecRegistry.standard.adding(PollCodec())
    }

    /// `owner` creates the poll `Lunch?` at the top of the tree.
    @discardableResult
    func createPoll(_ owner: Client) async throws -> FunctionResult {
        try await owner.connection.call(
            "create", on: self.lunch, payload: ["codec": "poll", "question": "Lunch?", "options": ["Pizza", "Sushi", "Tacos"]]
        )
    }

    /// A server with polls, its owner, and the owner's poll `Lunch?`.
    func serverWithPoll() async throws -> (TestServer, owner: Client) {
        let server = try await TestServer.start(configure: Self.withPolls)
        let owner = try await server.owner()
        try await self.createPoll(owner)
        return (server, owner)
    }

    @discardableResult
    func vote(_ connection: CommuneConnection, _ option: String) async throws -> FunctionResult {
        try await connection.call(PollCodec.vote, on: self.lunch, codec: "poll", payload: ["option": .string(option)])
    }

    func remind(_ member: Client, by caller: Client) async throws -> FunctionResult {
        try await caller.connection.call(
            PollCodec.remind, on: self.lunch, codec: "poll", payload: ["user_id": .string(member.identity.userID.value)]
        )
    }

    /// The poll `Lunch?` as the tree and `tally` show it.
    func summary(pizza: Int64, sushi: Int64, tacos: Int64) -> JSONValue {
        [
            "question": "Lunch?", "options": ["Pizza", "Sushi", "Tacos"],
            "tally": ["Pizza": .int(pizza), "Sushi": .int(sushi), "Tacos": .int(tacos)], "votes": .int(pizza + sushi + tacos),
        ]
    }

    /// `get_voters`' and `voters_changed`'s payload: who voted for what.
    func voters(_ votes: (Client, String)...) -> JSONValue {
        ["voters": .object(Dictionary(uniqueKeysWithValues: votes.map { ($0.0.identity.userID.value, JSONValue.string($0.1)) }))]
    }

    /// Another connection of `client`'s member (a second device), with its own reader.
    func secondDevice(of client: Client, on server: TestServer) async throws -> Client {
        let connection = try await server.connect()
        let welcome = try await connection.login(client.identity)
        return Client(connection: connection, identity: client.identity, welcome: welcome, events: EventReader(connection))
    }

    /// The updates `events` receives up to and including the first `marker`.
    func updates(_ events: EventReader, through marker: String) async throws -> [FunctionResult] {
        var seen: [FunctionResult] = []
        for _ in 0..<100 {
            guard let envelope = try await events.next() else { throw TestFailure("the connection closed before \(marker)") }
            guard envelope.type == .update else { continue }
            let update = try FunctionResult(data: envelope.data)
            seen.append(update)
            if update.result == marker { return seen }
        }
        throw TestFailure("no \(marker) among 100 frames")
    }

    /// The results of the updates `events` receives before the next `tally`, which it must receive.
    func resultsBeforeTally(_ events: EventReader) async throws -> [String] {
        try await self.updates(events, through: PollCodec.tally).map(\.result).dropLast()
    }

    func node(_ name: String, in tree: [InteractableNode]) throws -> InteractableNode {
        try #require(tree.first { $0.name == name })
    }

    @Test("create, see, vote, live tally; a bad vote changes nothing; a restart keeps the votes; a server without polls refuses")
    func pollOverTheWire() async throws {
        let server = try await TestServer.start(configure: Self.withPolls)
        let owner = try await server.owner()
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")

        let created = try await self.createPoll(owner)
        #expect(created.result == "created")
        let changed = try await alice.events.nextUpdate("tree_changed")
        let live = try self.node("Lunch", in: try InteractableNode.decodeTree(changed.payload["interactables"] ?? [:]))
        #expect(live.codec == "poll")
        #expect(JSONValue.object(live.data) == self.summary(pizza: 0, sushi: 0, tacos: 0))
        let device = try await server.connect()
        let welcome = try await device.login(alice.identity)
        #expect(try self.node("Lunch", in: welcome.interactables) == live)
        await device.close()

        // The voter gets the tally as the reply; the others get it as an update.
        let first = try await self.vote(alice.connection, "Sushi")
        #expect(first.result == PollCodec.tally)
        #expect(first.codec == "poll" && first.address == self.lunch)
        #expect(first.payload == self.summary(pizza: 0, sushi: 1, tacos: 0))
        let pushed = try await bob.events.nextUpdate(PollCodec.tally)
        #expect(pushed.payload == first.payload && pushed.address == self.lunch)
        // No copy for the voter: the first tally alice receives is bob's vote.
        let second = try await self.vote(bob.connection, "Pizza")
        #expect(try await alice.events.nextUpdate(PollCodec.tally).payload == second.payload)

        // A member may change their vote; it still counts once.
        let changedVote = try await self.vote(alice.connection, "Tacos")
        #expect(changedVote.payload == self.summary(pizza: 1, sushi: 0, tacos: 1))
        #expect(try await bob.events.nextUpdate(PollCodec.tally).payload == changedVote.payload)

        // An unknown option: the exact error, the same results, the same voters, no update.
        await #expect(throws: CommuneError.invalidArgument("data.payload.option must be one of Pizza, Sushi, Tacos.")) {
            try await self.vote(alice.connection, "Burgers")
        }
        await #expect(throws: CommuneError.invalidArgument("data.payload.option is required.")) {
            try await alice.connection.call(PollCodec.vote, on: self.lunch, codec: "poll")
        }
        let results = try await bob.connection.call(PollCodec.getResults, on: self.lunch, codec: "poll")
        #expect(results.result == PollCodec.tally && results.payload == changedVote.payload)
        let voters = try await owner.connection.call(PollCodec.getVoters, on: self.lunch, codec: "poll")
        #expect(voters.payload == self.voters((alice, "Tacos"), (bob, "Pizza")))
        // Nor was anything pushed for it: bob's next tally is the owner's vote.
        let third = try await self.vote(owner.connection, "Pizza")
        #expect(try await bob.events.nextUpdate(PollCodec.tally).payload == third.payload)

        // Restart on the same data folder with the same registry: the votes are still there, and still change.
        await server.stop()
        let restarted = try await TestServer.start(directory: server.directory, configure: Self.withPolls)
        let again = try await restarted.connect()
        let secondWelcome = try await again.login(owner.identity, communityKey: owner.welcome.communityKey)
        let kept = try self.node("Lunch", in: secondWelcome.interactables)
        #expect(JSONValue.object(kept.data) == self.summary(pizza: 2, sushi: 0, tacos: 1))
        let keptVoters = try await again.call(PollCodec.getVoters, on: self.lunch, codec: "poll")
        #expect(keptVoters.payload == self.voters((alice, "Tacos"), (bob, "Pizza"), (owner, "Pizza")))
        #expect(try await self.vote(again, "Sushi").payload == self.summary(pizza: 1, sushi: 1, tacos: 1))
        await restarted.stop()

        // A server without the poll codec still lists the node, but has nothing to answer its functions with.
        let plain = try await TestServer.start(directory: server.directory)
        let last = try await plain.connect()
        let thirdWelcome = try await last.login(alice.identity)
        #expect(try self.node("Lunch", in: thirdWelcome.interactables).codec == "poll")
        await #expect(throws: CommuneError(.unknownFunction, "This server has no codec 'poll'.")) {
            try await self.vote(last, "Pizza")
        }
        await plain.stopAndRemove()
    }

    @Test("create checks the question and the options with exact invalid_argument errors and creates nothing")
    func creationIsValidated() async throws {
        let server = try await TestServer.start(configure: Self.withPolls)
        let owner = try await server.owner()
        let eleven = JSONValue.array((1...11).map { .string("option \($0)") })
        let cases: [(payload: JSONValue, message: String)] = [
            (["options": ["Pizza", "Sushi"]], "data.payload.question is required."),
            (["question": " \n", "options": ["Pizza", "Sushi"]], "data.payload.question must not be empty."),
            (["question": "Lunch?"], "data.payload.options is required."),
            (["question": "Lunch?", "options": "Pizza, Sushi"], "data.payload.options must be an array of strings, not string."),
            (["question": "Lunch?", "options": ["Pizza"]], "data.payload.options must have 2 to 10 options, not 1."),
            (["question": "Lunch?", "options": eleven], "data.payload.options must have 2 to 10 options, not 11."),
            (["question": "Lunch?", "options": ["Pizza", 3]], "data.payload.options[1] must be a string, not number."),
            (["question": "Lunch?", "options": ["Pizza", "  "]], "data.payload.options[1] must not be empty."),
            (["question": "Lunch?", "options": ["Pizza", "Sushi", " Pizza "]], "data.payload.options[2] repeats 'Pizza'."),
        ]
        for (payload, message) in cases {
            var request = payload.objectValue ?? [:]
            request["codec"] = "poll"
            await #expect(throws: CommuneError.invalidArgument(message)) {
                try await owner.connection.call("create", on: self.lunch, payload: .object(request))
            }
            // A good request between the failures, so the server's limit on errors in a row leaves the connection open.
            _ = try await owner.connection.request(Envelope(type: .ping))
        }
        let device = try await server.connect()
        #expect(try await device.login(owner.identity).interactables.map(\.name) == ["General", "Rules"])

        // The edges are accepted: ten options, trimmed.
        let ten = (1...10).map { "option \($0)" }
        _ = try await owner.connection.call(
            "create", on: self.lunch,
            payload: ["codec": "poll", "question": " Lunch? ", "options": .array(ten.map { .string(" \($0) ") })]
        )
        let results = try await owner.connection.call(PollCodec.getResults, on: self.lunch, codec: "poll")
        #expect(results.payload["question"] == "Lunch?")
        #expect(results.payload["options"] == .array(ten.map(JSONValue.string)))
        #expect(results.payload["votes"] == 0)
        await server.stopAndRemove()
    }

    @Test("an update to one member reaches each of their connections, and neither the caller nor another member")
    func updateToOneMember() async throws {
        let (server, _) = try await self.serverWithPoll()
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")
        let carol = try await server.member("carol")
        let carolPhone = try await self.secondDevice(of: carol, on: server)

        #expect(try await self.remind(carol, by: alice).result == PollCodec.reminded)
        for events in [carol.events, carolPhone.events] {
            let reminder = try await events.nextUpdate(PollCodec.reminder)
            #expect(reminder.address == self.lunch)
            #expect(reminder.payload["from"] == .string(alice.identity.userID.value))
            #expect(reminder.payload["question"] == "Lunch?")
        }
        // The marker: carol votes, and every other connection gets the tally.
        try await self.vote(carol.connection, "Sushi")
        for events in [alice.events, bob.events] {
            #expect(try await !self.resultsBeforeTally(events).contains(PollCodec.reminder))
        }
        #expect(try await carolPhone.events.nextUpdate(PollCodec.tally).payload == self.summary(pizza: 0, sushi: 1, tacos: 0))
        await #expect(throws: CommuneError.invalidArgument("carol has voted already.")) {
            try await self.remind(carol, by: bob)
        }
        await server.stopAndRemove()
    }

    @Test("an update to one connection reaches it, and neither the member's other connection nor another member")
    func updateToOneConnection() async throws {
        let (server, owner) = try await self.serverWithPoll()
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")
        let alicePhone = try await self.secondDevice(of: alice, on: server)
        try await self.vote(alice.connection, "Sushi")
        for events in [alicePhone.events, bob.events] {
            _ = try await events.nextUpdate(PollCodec.tally)
        }

        let reply = try await alice.connection.call(PollCodec.showBallot, on: self.lunch, codec: "poll")
        #expect(reply.result == PollCodec.ballotShown)
        let ballot = try await alice.events.nextUpdate(PollCodec.ballot)
        #expect(ballot.payload["your_vote"] == "Sushi")
        #expect(ballot.payload["options"] == ["Pizza", "Sushi", "Tacos"])
        // The marker: the owner votes, and every other connection gets the tally.
        try await self.vote(owner.connection, "Pizza")
        for events in [alicePhone.events, bob.events] {
            #expect(try await !self.resultsBeforeTally(events).contains(PollCodec.ballot))
        }
        #expect(try await alice.events.nextUpdate(PollCodec.tally).payload == self.summary(pizza: 1, sushi: 1, tacos: 0))
        await server.stopAndRemove()
    }

    @Test("an update to a permission's holders reaches the owner and a moderator given it, and no plain member")
    func updateToPermissionHolders() async throws {
        let (server, owner) = try await self.serverWithPoll()
        _ = try await owner.connection.community("update_group", ["group": "moderator", "changes": [["add": "manage_channels"]]])
        let moderator = try await server.member("mod", group: "moderator")
        let bob = try await server.member("bob")
        let carol = try await server.member("carol")
        let dave = try await server.member("dave")

        try await self.vote(dave.connection, "Tacos")
        for holder in [owner, moderator] {
            let seen = try await self.updates(holder.events, through: PollCodec.tally)
            #expect(seen.filter { $0.result == PollCodec.votersChanged }.map(\.payload) == [self.voters((dave, "Tacos"))])
        }
        for member in [bob, carol] {
            #expect(try await !self.resultsBeforeTally(member.events).contains(PollCodec.votersChanged))
        }
        let voters = try await moderator.connection.call(PollCodec.getVoters, on: self.lunch, codec: "poll")
        #expect(voters.payload == self.voters((dave, "Tacos")))
        await #expect(throws: CommuneError.forbidden("You need the manage_channels permission for this.")) {
            try await bob.connection.call(PollCodec.getVoters, on: self.lunch, codec: "poll")
        }
        await server.stopAndRemove()
    }
}
