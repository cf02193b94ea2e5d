import Testing

@testable import CommuneProtocol

@Suite("Envelope")
struct EnvelopeTests {
    @Test("reads the seed's envelope and writes it back in field order")
    func seedEnvelope() throws {
        let text = #"{"type":"function","id":"42","log":{"log_level":0,"message":"running function"},"data":{"name":"General"}}"#
        let envelope = try Envelope(json: text)
        #expect(envelope.type == .function)
        #expect(envelope.id == "42")
        #expect(envelope.logLevel == .debug)
        #expect(envelope.data["name"]?.stringValue == "General")
        #expect(envelope.jsonString == text)
    }

    @Test("missing log and data default sensibly")
    func defaults() throws {
        let envelope = try Envelope(json: #"{"type":"ping"}"#)
        #expect(envelope.id == nil)
        #expect(envelope.data == .object([:]))
    }

    @Test(
        "bad frames get bad_json",
        arguments: ["not json", "[1,2]", "\"text\"", "{}", #"{"type":1}"#, #"{"type":null}"#]
    )
    func badJSON(text: String) {
        #expect {
            try Envelope(json: text)
        } throws: { error in
            (error as? CommuneError)?.code == .badJSON
        }
    }

    @Test(
        "wrongly typed envelope fields get invalid_argument",
        arguments: [#"{"type":"ping","data":[]}"#, #"{"type":"ping","log":"x"}"#, #"{"type":"ping","id":{}}"#]
    )
    func wrongTypes(text: String) {
        #expect {
            try Envelope(json: text)
        } throws: { error in
            (error as? CommuneError)?.code == .invalidArgument
        }
    }

    @Test("an error envelope round-trips into the same error")
    func errorEnvelope() throws {
        let error = CommuneError(.notFound, "No channel.")
        let envelope = try Envelope(json: error.envelope(replyingTo: "7", requestType: .function).jsonString)
        #expect(envelope.id == "7")
        #expect(CommuneError(envelope: envelope) == error)
        #expect(envelope.data["request_type"]?.stringValue == "function")
    }

    @Test("payload reader names the field and the wrong type")
    func payloadReader() throws {
        let reader = try PayloadReader(["amount": "ten", "n": .double(1.5)], context: "data.payload")
        #expect(throws: CommuneError.invalidArgument("data.payload.amount must be a number, not string.")) {
            try reader.int("amount")
        }
        #expect(throws: CommuneError.invalidArgument("data.payload.n must be a whole number.")) { try reader.int("n") }
        #expect(throws: CommuneError.invalidArgument("data.payload.message is required.")) { try reader.string("message") }
    }
}
