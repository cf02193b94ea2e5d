import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Testing

/// Every bad request gets its exact error code, the server keeps running, and nothing stored changes.
@Suite("Bad input")
struct BadInputTests {
    let general = ChannelAddress(path: "General", name: "General")

    /// Sends `text` as a raw frame and returns the error the server answers with.
    func rawError(_ client: Client, _ text: String) async throws -> CommuneError {
        try await client.connection.sendRaw(text)
        return try await self.nextError(client)
    }

    /// The next unsolicited frame, which must be an error.
    func nextError(_ client: Client) async throws -> CommuneError {
        let envelope = try await client.events.next()
        #expect(envelope?.type == .error)
        return try #require(envelope.flatMap(CommuneError.init(envelope:)))
    }

    func functionError(_ client: Client, _ function: String, on address: ChannelAddress, codec: String? = "text", payload: JSONValue)
        async throws -> CommuneError
    {
        do {
            _ = try await client.connection.call(function, on: address, codec: codec, payload: payload)
            Issue.record("\(function) with \(payload.jsonString) succeeded")
            return CommuneError(.internalError, "succeeded")
        } catch let error as CommuneError {
            return error
        }
    }

    @Test("each malformed request gets its own error code and changes nothing")
    func errorCodes() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        _ = try await alice.connection.sendMessage("the only message", to: self.general)

        #expect(try await self.rawError(alice, "this is not json").code == .badJSON)
        #expect(try await self.rawError(alice, "[1,2,3]").code == .badJSON)
        #expect(try await self.rawError(alice, #"{"id":"x"}"#).code == .badJSON)
        let unknown = try await self.rawError(alice, #"{"type":"teleport","id":"u1"}"#)
        #expect(unknown == CommuneError(.unknownType, "Unknown message type 'teleport'."))
        #expect(try await self.rawError(alice, #"{"type":"function","id":"f","data":"x"}"#).code == .invalidArgument)
        #expect(try await self.rawError(alice, #"{"type":"challenge","id":"c"}"#).code == .unexpectedMessage)

        try await alice.connection.sendBinary([1, 2, 3])
        let binary = try await self.nextError(alice)
        #expect(binary.code == .badJSON)

        // Ten failures in a row disconnect a client: a good request in between resets the count.
        _ = try await alice.connection.request(Envelope(type: .ping))

        let missing = try await self.functionError(alice, "send_message", on: ChannelAddress(path: "General", name: "Genral"), payload: ["message": "x"])
        #expect(missing == CommuneError(.notFound, "No text channel 'Genral' at path 'General'."))
        #expect(
            try await self.functionError(alice, "send_message", on: ChannelAddress(path: "Nowhere", name: "General"), payload: ["message": "x"]).code
                == .notFound
        )
        let wrongCodec = try await self.functionError(alice, "send_message", on: ChannelAddress(path: "General", name: "VC-1"), payload: ["message": "x"])
        #expect(wrongCodec.code == .invalidArgument)
        let noFunction = try await self.functionError(alice, "launch", on: self.general, payload: [:])
        #expect(noFunction == CommuneError(.unknownFunction, "The text codec has no function 'launch'."))

        _ = try await alice.connection.request(Envelope(type: .ping))
        let empty = try await self.functionError(alice, "send_message", on: self.general, payload: ["message": ""])
        #expect(empty == CommuneError.invalidArgument("data.payload.message must not be empty."))
        let blank = try await self.functionError(alice, "send_message", on: self.general, payload: ["message": "  \n "])
        #expect(blank.code == .invalidArgument)
        let long = try await self.functionError(alice, "send_message", on: self.general, payload: ["message": .string(String(repeating: "é", count: 4_001))])
        #expect(long == CommuneError(.tooLarge, "The message has 4001 characters; the limit is 4000."))
        let number = try await self.functionError(alice, "send_message", on: self.general, payload: ["message": 5])
        #expect(number == CommuneError.invalidArgument("data.payload.message must be a string, not number."))
        let noField = try await self.functionError(alice, "send_message", on: self.general, payload: [:])
        #expect(noField == CommuneError.invalidArgument("data.payload.message is required."))
        _ = try await alice.connection.request(Envelope(type: .ping))
        let amountText = try await self.functionError(alice, "get_messages", on: self.general, payload: ["amount": "ten"])
        #expect(amountText == CommuneError.invalidArgument("data.payload.amount must be a number, not string."))
        let amountHuge = try await self.functionError(alice, "get_messages", on: self.general, payload: ["amount": 1_000])
        #expect(amountHuge == CommuneError.invalidArgument("data.payload.amount must be between 1 and 100."))
        let negative = try await self.functionError(alice, "get_messages", on: self.general, payload: ["loaded_messages": -1])
        #expect(negative.code == .invalidArgument)

        // A 100 KiB frame is refused with too_large, and the connection stays usable.
        let big = Envelope(type: .function, id: "big", data: FunctionRequest(
            codec: "text", address: self.general, function: "send_message", payload: ["message": .string(String(repeating: "a", count: 100_000))]
        ).data)
        try await alice.connection.sendRaw(big.jsonString)
        let tooLarge = try await self.nextError(alice)
        #expect(tooLarge.code == .tooLarge)

        // Nothing stored changed, and the connection still works.
        let history = try await alice.connection.messages(in: self.general)
        #expect(history.map(\.message) == ["the only message"])
        #expect(try await alice.connection.sendMessage("still here", to: self.general).messageID == 2)
        await server.stopAndRemove()
    }

    @Test("functions before login get not_authenticated")
    func beforeLogin() async throws {
        let server = try await TestServer.start()
        let connection = try await server.connect()
        await #expect(throws: CommuneError(.notAuthenticated, "Log in first: send identification, then challenge_response.")) {
            try await connection.sendMessage("sneaky", to: self.general)
        }
        await #expect(throws: CommuneError.self) { try await connection.request(Envelope(type: .ping)) }
        await #expect(throws: CommuneError(.unexpectedMessage, "There is no pending challenge; send identification first.")) {
            try await connection.request(Envelope(type: .challengeResponse, data: ["challenge": "AAAA"]))
        }
        let alice = try await server.member("alice")
        #expect(try await alice.connection.messages(in: self.general).isEmpty)
        await server.stopAndRemove()
    }

    @Test("a client that keeps sending garbage is disconnected with 1008")
    func garbage() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        for index in 0..<10 {
            try? await alice.connection.sendRaw("garbage \(index)")
        }
        try await alice.events.waitForClose()
        #expect(alice.connection.closeError?.closeCode == 1008)
        // The server is fine: a new connection works.
        let bob = try await server.member("bob")
        #expect(try await bob.connection.sendMessage("ok", to: self.general).messageID == 1)
        await server.stopAndRemove()
    }

    @Test("a frame over the hard limit closes the connection with 1009")
    func hugeFrame() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        try? await alice.connection.sendRaw(String(repeating: "x", count: (1 << 20) + 10))
        try await alice.events.waitForClose()
        #expect(alice.connection.closeError?.closeCode == 1009)
        await server.stopAndRemove()
    }

    @Test("a connection that never logs in is closed")
    func loginTimeout() async throws {
        let server = try await TestServer.start { $0.loginTimeout = .milliseconds(300) }
        let connection = try await server.connect()
        let events = EventReader(connection)
        // A generous bound: in the whole suite on 2 cores a clean-clone CI run saw no close within 5 s of a 300 ms
        // timeout (the closing frame is an event-loop timer's, the reading the test process's).
        try await events.waitForClose(timeout: .seconds(30))
        #expect(connection.closeError?.closeCode == 1008)
        #expect(connection.closeError == .connectionClosed(code: 1008, reason: "login timeout"))
        await server.stopAndRemove()
    }
}
