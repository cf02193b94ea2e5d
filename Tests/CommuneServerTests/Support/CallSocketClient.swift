import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Testing

/// A test client of the call socket (`/ws/calls/`): JSON frames `{type, data}` over a raw WebSocket.
struct CallSocketClient: Sendable {
    let socket: RawWebSocket

    /// Connects to the server's call socket.
    static func connect(to server: TestServer) async throws -> CallSocketClient {
        let socket = try RawWebSocket(port: server.ready.port, path: VoiceChannelCodec.callSocketPath, timeoutSeconds: 5)
        #expect(try await socket.run { try $0.readUpgradeResponse() } == "HTTP/1.1 101 Switching Protocols")
        return CallSocketClient(socket: socket)
    }

    /// Connects and says `hello` with the secret of `joined` (a `call_joined` reply); returns the `ready` data.
    static func open(_ server: TestServer, channel: ChannelAddress, joined: FunctionResult) async throws -> (CallSocketClient, [String: JSONValue]) {
        let client = try await self.connect(to: server)
        let secret = try #require(joined.payload["secret"]?.stringValue)
        try await client.send("hello", ["path": .string(channel.path), "name": .string(channel.name), "secret": .string(secret)])
        let ready = try await client.next()
        #expect(ready.type == "ready", "\(ready)")
        return (client, ready.data)
    }

    func send(_ type: String, _ data: [String: JSONValue] = [:]) async throws {
        let text = JSONValue.object(["type": .string(type), "data": .object(data)]).jsonString
        try await self.socket.run { try $0.sendText(text) }
    }

    /// The next text frame; throws when the socket closes first (with its close code and reason).
    func next() async throws -> (type: String, data: [String: JSONValue]) {
        try await self.socket.run { socket in
            while let frame = try socket.readFrame() {
                if frame.opcode == 0x8 { throw TestFailure("closed: \(RawWebSocket.closeDescription(frame.payload))") }
                guard frame.opcode == 0x1 else { continue }
                let value = try JSONValue.parse(String(decoding: frame.payload, as: UTF8.self))
                return (value["type"]?.stringValue ?? "", value["data"]?.objectValue ?? [:])
            }
            throw TestFailure("the call socket closed without a close frame")
        }
    }

    /// The next frame of `type`, skipping others.
    func next(_ type: String) async throws -> [String: JSONValue] {
        for _ in 0..<50 {
            let frame = try await self.next()
            if frame.type == type { return frame.data }
        }
        throw TestFailure("no \(type) frame among the next 50")
    }

    /// Reads until the server's close frame; returns "code reason".
    func closeFrame() async throws -> String {
        try await self.socket.run { socket in
            while let frame = try socket.readFrame() {
                if frame.opcode == 0x8 { return RawWebSocket.closeDescription(frame.payload) }
            }
            throw TestFailure("the call socket closed without a close frame")
        }
    }
}
