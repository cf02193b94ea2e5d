import CommuneClient
import CommuneCore
import CommuneProtocol
import Testing

/// The typing indicator over the wire: who gets it, how often, and what is refused.
@Suite("Typing indicators")
struct TypingTests {
    let general = ChannelAddress(path: "General", name: "General")
    let rules = ChannelAddress(path: "", name: "Rules")

    /// Whether `client` receives a `member_typing` update within `timeout`.
    func hearsTyping(_ client: Client, timeout: Duration = .milliseconds(700)) async throws -> FunctionResult? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let frame: Envelope?
            do { frame = try await client.events.next(timeout: deadline - ContinuousClock.now) } catch is TestFailure { return nil }
            guard let envelope = frame else { return nil }
            if envelope.type == .update, let update = try? FunctionResult(data: envelope.data), update.result == TextFunction.memberTyping {
                return update
            }
        }
        return nil
    }

    @Test("an observer sees who types where; the typing connection gets the reply, not an update")
    func observerSees() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")
        let reply = try await alice.connection.call(TextFunction.typing, on: self.general, codec: TextFunction.codec)
        #expect(reply.result == TextFunction.memberTyping && reply.payload["user_id"]?.stringValue == alice.identity.userID.value)
        let seen = try #require(try await self.hearsTyping(bob))
        #expect(seen.address == self.general && seen.codec == TextFunction.codec)
        #expect(seen.payload["user_id"]?.stringValue == alice.identity.userID.value)
        #expect(try await self.hearsTyping(alice) == nil)
        await server.stopAndRemove()
    }

    @Test("throttled: one broadcast per member and channel per window, every call answered; other channels and members apart")
    func throttled() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")
        let carol = try await server.member("carol")
        // Five calls at once (each answered); only a burst that fits in the window must make one broadcast: on a
        // starved machine (CI's 2 cores running every suite) five calls one after another once took over 3 s.
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<5 { group.addTask { try await alice.connection.typing(in: self.general) } }
            try await group.waitForAll()
        }
        let burst = ContinuousClock.now - start
        #expect(try await self.hearsTyping(bob) != nil)
        if burst < TypingThrottle().window {  // the server's window (the default one)
            #expect(try await self.hearsTyping(bob) == nil, "a second broadcast inside the window")
        }
        // Another channel, and another member, are not held back by Alice's General.
        try await alice.connection.typing(in: self.rules)
        #expect(try await self.hearsTyping(bob)?.address == self.rules)
        try await carol.connection.typing(in: self.general)
        #expect(try await self.hearsTyping(bob)?.payload["user_id"]?.stringValue == carol.identity.userID.value)
        // After the window, Alice typing on is broadcast again.
        try await Task.sleep(for: .seconds(3))  // the window (PROTOCOL.md, `typing`)
        try await alice.connection.typing(in: self.general)
        #expect(try await self.hearsTyping(bob)?.payload["user_id"]?.stringValue == alice.identity.userID.value)
        await server.stopAndRemove()
    }

    @Test("refused where there is no typing, with a payload that is not an object; nothing is stored or sent")
    func refusals() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")
        await expectError(.unknownFunction) {
            _ = try await alice.connection.call(TextFunction.typing, on: ChannelAddress(path: "General", name: "VC-1"))
        }
        await expectError(.unknownFunction) {
            _ = try await alice.connection.call(TextFunction.typing, on: ChannelAddress(path: "", name: "General"))
        }
        await expectError(.unknownFunction) { _ = try await alice.connection.community(TextFunction.typing) }
        await expectError(.notFound) { _ = try await alice.connection.call(TextFunction.typing, on: ChannelAddress(path: "", name: "Nowhere")) }
        await expectError(.invalidArgument) {
            _ = try await alice.connection.call(TextFunction.typing, on: self.general, payload: .string("typing"))
        }
        #expect(try await self.hearsTyping(bob) == nil)
        #expect(try await bob.connection.messages(in: self.general).isEmpty)
        await server.stopAndRemove()
    }
}
