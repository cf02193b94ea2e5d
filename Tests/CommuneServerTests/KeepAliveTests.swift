import CommuneServer
import Testing

@Suite("Keep-alive")
struct KeepAliveTests {
    @Test("a connection that never answers pings is closed after the ping period")
    func silentConnectionIsClosed() async throws {
        let server = try await TestServer.start { configuration in
            configuration.pingInterval = .milliseconds(300)
            configuration.loginTimeout = .seconds(60)
        }
        let started = ContinuousClock.now
        // A client that completes the WebSocket upgrade and then never answers anything, not even pings.
        let socket = try RawWebSocket(port: server.ready.port)
        let received = try await socket.run { try $0.readUntilClosed() }
        let elapsed = ContinuousClock.now - started
        #expect(String(decoding: received.prefix(12), as: UTF8.self) == "HTTP/1.1 101")
        // Pings went out (opcode 0x9) before the close; and it was the ping timeout, not the 60 s login timeout.
        #expect(received.contains(0x89))
        #expect(elapsed < .seconds(10))
        await server.stopAndRemove()
    }

    @Test("shutdown sends a close frame and does not wait long for a client that never answers")
    func shutdownDropsSilentClients() async throws {
        let server = try await TestServer.start { configuration in
            configuration.closeTimeout = .milliseconds(500)
        }
        let socket = try RawWebSocket(port: server.ready.port)
        #expect(try await socket.run { try $0.readUpgradeResponse() } == "HTTP/1.1 101 Switching Protocols")
        let started = ContinuousClock.now
        async let stopped: Void = server.stopAndRemove()
        let closeFrame = try await socket.run { socket -> String? in
            while let frame = try socket.readFrame() {
                if frame.opcode == 0x8 { return RawWebSocket.closeDescription(frame.payload) }
            }
            return nil
        }
        #expect(closeFrame == "1000 ")
        await stopped
        #expect(ContinuousClock.now - started < .seconds(5))
    }
}
