import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Testing

@Suite("Fan-out: pipelined sends and slow readers")
struct FanoutTests {
    let general = ChannelAddress(path: "General", name: "General")

    func sendRequest(_ text: String, id: String) -> Envelope {
        let request = FunctionRequest(
            codec: TextFunction.codec, address: self.general, function: TextFunction.sendMessage, payload: ["message": .string(text)]
        )
        return Envelope(type: .function, id: id, logMessage: "", data: request.data)
    }

    @Test("a burst of sends written before any reply keeps its order: replies, ids and live delivery")
    func pipelinedBurstKeepsOrder() async throws {
        let server = try await TestServer.start()
        let observer = try await server.owner()
        let (socket, _) = try await server.rawMember("burst")
        let count = 40
        let requests = (0..<count).map { self.sendRequest("burst \($0)", id: "send-\($0)") }
        let replies = try await socket.run { socket in
            for request in requests { try socket.send(request) }
            var replies: [Envelope] = []
            while replies.count < count {
                let envelope = try socket.readEnvelope()
                if envelope.type == .function { replies.append(envelope) }
            }
            return replies
        }
        #expect(replies.map(\.id) == (0..<count).map { "send-\($0)" })
        let ids = try replies.map { try #require(try FunctionResult(data: $0.data).payload["message_id"]?.intValue) }
        #expect(ids == (1...count).map(Int64.init))
        var live: [ChatMessage] = []
        while live.count < count {
            live.append(try ChatMessage(json: try await observer.events.nextUpdate(TextFunction.messageLive).payload))
        }
        #expect(live.map(\.message) == (0..<count).map { "burst \($0)" })
        #expect(live.map(\.messageID) == ids)
        let stored = try await observer.connection.messages(in: self.general, amount: count)
        #expect(stored.reversed().map(\.message) == (0..<count).map { "burst \($0)" })
        try await socket.run { try $0.closeNormally() }
        await server.stopAndRemove()
    }

    @Test("a member who stops reading is closed as a slow consumer; the others get every message")
    func slowConsumerIsClosed() async throws {
        let server = try await TestServer.start { configuration in
            configuration.outboundQueueLimitBytes = 128 << 10
        }
        let sender = try await server.owner()
        let observer = try await server.member("observer")
        let identity = Identity.generate()
        let registration = try await server.connect()
        try await registration.register(identity, invite: try await server.invite(), username: "sleepy")
        await registration.close()

        // Logs in, then reads nothing more: its kernel buffers are small, so the server's queue fills.
        let sleepy = try RawWebSocket(port: server.ready.port, receiveBuffer: 4096)
        _ = try await sleepy.run { try $0.readUpgradeResponse() }
        #expect(try await sleepy.run { try $0.login(identity) }.type == .identificationResponse)

        let text = String(repeating: "x", count: 3_900)
        let count = 800  // about 3 MiB of frames for each reader
        for index in 0..<count {
            _ = try await sender.connection.sendMessage("\(index) \(text)", to: self.general)
        }
        var delivered = 0
        while delivered < count {
            _ = try await observer.events.nextUpdate(TextFunction.messageLive, timeout: .seconds(10))
            delivered += 1
        }
        #expect(delivered == count)

        // The sleepy member finally reads: what was sent before the overflow, then a close frame saying why.
        let closeReason = try await sleepy.run { socket -> String? in
            while let frame = try socket.readFrame() {
                if frame.opcode == 0x8 { return RawWebSocket.closeDescription(frame.payload) }
            }
            return nil
        }
        #expect(closeReason == "1008 slow consumer")
        // Nothing was lost for the others: the history has every message.
        #expect(try await observer.connection.messages(in: self.general, amount: 1).first?.messageID == Int64(count))
        await server.stopAndRemove()
    }
}
