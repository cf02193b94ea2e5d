import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Foundation
import Testing

/// Resumable sync on one node: a member who reconnects says where they were in the stream of updates and gets
/// exactly what they missed, in order, before anything live; or is told to refetch when that cannot be done.
@Suite("Resuming the stream of updates")
struct ResumeTests {
    let general = ChannelAddress(path: "General", name: "General")

    /// The `update` frames that follow, until `count` have come.
    func updates(_ events: EventReader, count: Int) async throws -> [Envelope] {
        var frames: [Envelope] = []
        while frames.count < count {
            guard let frame = try await events.next() else { throw TestFailure("closed after \(frames.count) of \(count) updates") }
            if frame.type == .update { frames.append(frame) }
        }
        return frames
    }

    func messages(in frames: [Envelope]) -> [String] {
        frames.compactMap { frame in
            guard let update = try? FunctionResult(data: frame.data), update.result == TextFunction.messageLive else { return nil }
            return update.payload["message"]?.stringValue
        }
    }

    /// Closes a connection and reads what was still on its way (returned), so that its resume point is final.
    @discardableResult
    func disconnect(_ connection: CommuneConnection, _ events: EventReader) async throws -> (point: ResumePoint, frames: [Envelope]) {
        await connection.close()
        var frames: [Envelope] = []
        while let frame = try await events.next() { frames.append(frame) }
        return (try #require(connection.resumePoint), frames)
    }

    @Test("a member who reconnects gets what they missed, in order, with positions, then live updates")
    func resumeAfterDisconnect() async throws {
        let server = try await TestServer.start()
        let alice = try await server.owner("alice")
        let bob = try await server.member("bob")
        let stream = try #require(bob.welcome.stream)
        #expect(stream.position >= 1)

        try await alice.connection.sendMessage("before", to: self.general)
        let seen = try await bob.events.nextUpdate(TextFunction.messageLive)
        #expect(seen.payload["message"]?.stringValue == "before")
        let point = try await self.disconnect(bob.connection, bob.events).point
        #expect(point.stream == stream.id)
        #expect(point.position > stream.position)

        for text in ["one", "two", "three"] { try await alice.connection.sendMessage(text, to: self.general) }
        _ = try await alice.connection.react("👍", to: 2, in: self.general)

        let again = try await server.connect()
        let againEvents = EventReader(again)
        let welcome = try await again.login(bob.identity, resume: point)
        // Bob's going offline, three messages and a reaction.
        #expect(welcome.resume == .resumed(missed: 5))
        let missed = try await self.updates(againEvents, count: 5)
        #expect(self.messages(in: missed) == ["one", "two", "three"])
        let positions = missed.compactMap(\.position)
        #expect(positions.count == 5)
        #expect(positions == positions.sorted() && Set(positions).count == 5)
        #expect(positions.first == point.position + 1)
        #expect(try #require(welcome.stream).position == positions.last)

        // Then he is back (he hears it himself after his own going offline), and live updates follow.
        let back = try #require(try await self.updates(againEvents, count: 1).first)
        #expect(try FunctionResult(data: back.data).payload["online"] == true)
        try await alice.connection.sendMessage("live", to: self.general)
        let live = try #require(try await self.updates(againEvents, count: 1).first)
        #expect(self.messages(in: [live]) == ["live"])
        let livePosition = try #require(live.position)
        #expect(livePosition > (positions.last ?? .max))
        await server.stopAndRemove()
    }

    @Test("what the old connection was answered for directly is not sent again, unless the client does not say which it was")
    func ownRepliesAreNotReplayed() async throws {
        let server = try await TestServer.start()
        let alice = try await server.owner("alice")
        let bob = try await server.member("bob")
        let point = try #require(bob.connection.resumePoint)
        // Bob's own message: he got the reply; the update went to everyone else.
        try await bob.connection.sendMessage("mine", to: self.general)
        try await alice.connection.sendMessage("theirs", to: self.general)
        _ = try await bob.events.nextUpdate(TextFunction.messageLive)
        try await self.disconnect(bob.connection, bob.events)

        let second = try await server.connect()
        let secondEvents = EventReader(second)
        #expect(try await second.login(bob.identity, resume: point).resume == .resumed(missed: 2))
        #expect(self.messages(in: try await self.updates(secondEvents, count: 2)) == ["theirs"])
        try await self.disconnect(second, secondEvents)

        let third = try await server.connect()
        let thirdEvents = EventReader(third)
        let anonymous = ResumePoint(stream: point.stream, position: point.position)
        // Without the connection key, what his first connection was answered for comes too: his own message, and
        // his own coming online (each connection hears of the others' comings and goings).
        let thirdWelcome = try await third.login(bob.identity, resume: anonymous)
        #expect(thirdWelcome.resume == .resumed(missed: 6))
        #expect(self.messages(in: try await self.updates(thirdEvents, count: 6)) == ["mine", "theirs"])
        await server.stopAndRemove()
    }

    @Test("a resume that cannot be served says why and the login still succeeds: another stream, ahead, too far back, after a restart")
    func refetch() async throws {
        let server = try await TestServer.start { $0.resumeWindowUpdates = 5 }
        let alice = try await server.owner("alice")
        let bob = try await server.member("bob")
        let point = try await self.disconnect(bob.connection, bob.events).point

        func login(_ resume: ResumePoint) async throws -> IdentificationResponse {
            let connection = try await server.connect()
            let welcome = try await connection.login(bob.identity, resume: resume)
            await connection.close()
            return welcome
        }
        let other = try await login(ResumePoint(stream: "another-stream", position: 1))
        #expect(other.resume == .refetch(reason: "This is not the stream you were on: the server restarted since, and what happened meanwhile is not kept."))
        #expect(other.accepted && !other.interactables.isEmpty)
        let ahead = try await login(ResumePoint(stream: point.stream, position: point.position + 1_000))
        #expect(ahead.resume == .refetch(reason: "That position is ahead of this stream, which is at \(try #require(ahead.stream).position)."))

        for index in 0..<10 { try await alice.connection.sendMessage("m\(index)", to: self.general) }
        let away = try await login(point)
        #expect(away.resume == .refetch(reason: "You were away for longer than this server keeps updates for (the last 5)."))

        // A restart starts a new stream.
        let directory = server.directory
        await server.stop()
        let restarted = try await TestServer.start(directory: directory)
        let connection = try await restarted.connect()
        let welcome = try await connection.login(bob.identity, resume: point)
        #expect(welcome.resume == .refetch(reason: "This is not the stream you were on: the server restarted since, and what happened meanwhile is not kept."))
        #expect(try #require(welcome.stream).id != point.stream)
        await connection.close()
        await restarted.stopAndRemove()
    }

    @Test("a malformed resume is refused with the field and the reason, and the login goes no further")
    func badResume() async throws {
        let server = try await TestServer.start()
        let bob = try await server.member("bob")
        let cases: [(JSONValue, String)] = [
            ("yesterday", "data.resume must be an object, not string."),
            (["position": 3], "data.resume.stream is required."),
            (["stream": "s", "position": -1], "data.resume.position must be 0 or more."),
            (["stream": "s", "position": "3"], "data.resume.position must be a number, not string."),
            (["stream": "s", "position": .double(1.5)], "data.resume.position must be a whole number."),
            (["stream": .string(String(repeating: "s", count: 65)), "position": 1], "data.resume.stream and data.resume.connection are at most 64 bytes."),
            (["stream": "s", "position": 1, "connection": 7], "data.resume.connection must be a string, not number."),
        ]
        for (resume, message) in cases {
            let connection = try await server.connect()
            let request = Envelope(type: .identification, data: ["user_id": .string(bob.identity.userID.value), "resume": resume])
            do {
                _ = try await connection.request(request)
                Issue.record("accepted resume \(resume)")
            } catch let error as CommuneError {
                #expect(error.code == .invalidArgument)
                #expect(error.message == message)
            }
            // No challenge is pending: the login goes no further.
            await expectError(.notAuthenticated) { _ = try await connection.members() }
            await connection.close()
        }
        await server.stopAndRemove()
    }

    @Test("reconnecting again and again while another member sends: every message exactly once, in order")
    func noGapNoDuplicate() async throws {
        let server = try await TestServer.start()
        let alice = try await server.owner("alice")
        let bob = try await server.member("bob")
        let total = 300
        let sender = Task {
            for index in 1...total { try await alice.connection.sendMessage("m\(index)", to: self.general) }
        }
        var connection = bob.connection
        var events = bob.events
        var seen: [String] = []
        for _ in 0..<6 {
            try await Task.sleep(for: .milliseconds(40))
            let (point, frames) = try await self.disconnect(connection, events)
            seen += self.messages(in: frames)
            connection = try await server.connect()
            events = EventReader(connection)
            let welcome = try await connection.login(bob.identity, resume: point)
            guard case .resumed = welcome.resume else { throw TestFailure("not resumed: \(String(describing: welcome.resume))") }
        }
        try await sender.value
        while seen.count < total, let frame = try await events.next() {
            seen += self.messages(in: [frame])
        }
        #expect(seen == (1...total).map { "m\($0)" })
        await server.stopAndRemove()
    }
}
