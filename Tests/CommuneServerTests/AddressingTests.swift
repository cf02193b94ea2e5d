import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Testing

/// How a function request names its target: `path` is required, and `create`'s codec is said once.
@Suite("Addressing functions")
struct AddressingTests {
    @Test("a function without path, or with a null path, is invalid_argument; path \"\" is the top level")
    func pathIsRequired() async throws {
        let server = try await TestServer.start()
        let (socket, _) = try await server.rawMember("raw")
        for (index, path) in ["", #""path":null,"#].enumerated() {
            let reply = try await socket.answer(
                #"{"type":"function","id":"p\#(index)","data":{\#(path)"codec":"text","name":"Rules","function":"send_message","payload":{"message":"lost"}}}"#
            )
            #expect(reply.type == .error && reply.id == "p\(index)" && reply.data["request_type"] == "function")
            #expect(CommuneError(envelope: reply) == .invalidArgument("data.path is required."))
        }
        let community = try await socket.answer(#"{"type":"function","id":"c","data":{"codec":"community","path":"","name":"","function":"get_info"}}"#)
        #expect(community.type == .function && community.id == "c" && community.data["result"] == "info")
        let owner = try await server.owner()
        #expect(try await owner.connection.messages(in: ChannelAddress(path: "", name: "Rules")).isEmpty)
        let sent = try await socket.answer(
            #"{"type":"function","id":"s","data":{"codec":"text","path":"","name":"Rules","function":"send_message","payload":{"message":"found"}}}"#
        )
        #expect(sent.data["result"] == "message_received")
        try await socket.run { try $0.closeNormally() }
        await server.stopAndRemove()
    }

    @Test("create with data.codec other than data.payload.codec is invalid_argument and creates nothing")
    func createCodecsMustAgree() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner()
        let place = ChannelAddress(path: "", name: "Projects")
        let before = owner.welcome.interactables
        do {
            _ = try await owner.connection.call("create", on: place, codec: "text", payload: ["codec": "category"])
            Issue.record("create with two codecs succeeded")
        } catch let error as CommuneError {
            #expect(
                error == .invalidArgument(
                    "data.codec 'text' differs from data.payload.codec 'category': give the new node's codec once, or the same in both."
                )
            )
        }
        let again = try await server.connect()
        #expect(try await again.login(owner.identity).interactables == before)
        // The same codec in both, or one of them alone, creates.
        #expect(try await owner.connection.call("create", on: place, codec: "category", payload: ["codec": "category"]).result == "created")
        let notes = ChannelAddress(path: "Projects", name: "Notes")
        #expect(try await owner.connection.call("create", on: notes, codec: "text").result == "created")
        await again.close()
        await server.stopAndRemove()
    }
}
