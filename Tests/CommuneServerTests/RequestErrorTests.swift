import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Testing

/// Every failed request gets one `error` that carries its `id` and `request_type` whenever they can be read, even
/// from a frame that is not a readable envelope; exact frames over a raw socket.
@Suite("Errors answer their request")
struct RequestErrorTests {
    func expectError(_ reply: Envelope, _ error: CommuneError, id: String?, type: String?) {
        #expect(reply.type == .error)
        #expect(reply.id == id)
        #expect(CommuneError(envelope: reply) == error)
        #expect(reply.data["request_type"]?.stringValue == type)
    }

    @Test("data that is not an object, cut-off JSON and too-large frames are answered with the request's id")
    func unreadableFrames() async throws {
        let server = try await TestServer.start()
        let (socket, _) = try await server.rawMember("raw")

        for (data, name) in [(#""x""#, "string"), ("[1,2]", "array"), ("5", "number")] {
            let reply = try await socket.answer(#"{"type":"function","id":"d-\#(name)","data":\#(data)}"#)
            self.expectError(reply, .invalidArgument("\"data\" must be an object, not \(name)."), id: "d-\(name)", type: "function")
        }
        let numeric = try await socket.answer(#"{"type":"ping","id":7,"log":"loud"}"#)
        self.expectError(numeric, .invalidArgument("\"log\" must be an object, not string."), id: "7", type: "ping")
        let cut = try await socket.answer(#"{"type":"function","id":"cut","data":{"name":"General""#)
        #expect(cut.id == "cut" && cut.data["code"] == "bad_json" && cut.data["request_type"] == "function")

        // A 100 KiB send: its id comes back whether it stands before or after the oversized data.
        let message = String(repeating: "a", count: 100_000)
        let data = #"{"codec":"text","path":"General","name":"General","function":"send_message","payload":{"message":"\#(message)"}}"#
        for text in [#"{"type":"function","id":"big-1","data":\#(data)}"#, #"{"type":"function","data":\#(data),"id":"big-2"}"#] {
            let reply = try await socket.answer(text)
            let id = text.hasSuffix(#""big-2"}"#) ? "big-2" : "big-1"
            self.expectError(reply, CommuneError(.tooLarge, "The frame has \(text.utf8.count) bytes; the limit is 65536."), id: id, type: "function")
        }

        // Where no id can be read, the error has none.
        let array = try await socket.answer("[1,2,3]")
        self.expectError(array, .badJSON("The frame must be a JSON object, not array."), id: nil, type: nil)
        let longID = try await socket.answer(#"{"type":"ping","id":""# + String(repeating: "i", count: 129) + #""}"#)
        self.expectError(longID, .invalidArgument("\"id\" is longer than 128 bytes."), id: nil, type: "ping")

        // Nothing was stored, and the connection still works.
        let pong = try await socket.answer(#"{"type":"ping","id":"still"}"#)
        #expect(pong.type == .pong && pong.id == "still")
        let owner = try await server.owner()
        #expect(try await owner.connection.messages(in: ChannelAddress(path: "General", name: "General")).isEmpty)
        try await socket.run { try $0.closeNormally() }
        await server.stopAndRemove()
    }
}
