import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Keep-alive")
struct KeepAliveTests {
    /// A TCP client that completes the WebSocket upgrade and then never answers anything, not even pings.
    final class SilentSocket {
        let descriptor: Int32

        init(port: Int) throws {
            self.descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(self.descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw TestFailure("cannot connect to 127.0.0.1:\(port)") }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(self.descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let upgrade = "GET / HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            _ = upgrade.withCString { send(self.descriptor, $0, strlen($0), 0) }
        }

        deinit { close(self.descriptor) }

        /// Reads until the server closes the connection; returns what it sent, or throws after the socket's timeout.
        func readUntilClosed() throws -> [UInt8] {
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while received.count < 1 << 20 {
                let count = recv(self.descriptor, &buffer, buffer.count, 0)
                if count == 0 { return received }
                guard count > 0 else { throw TestFailure("the server kept the silent connection open") }
                received += buffer[0..<count]
            }
            throw TestFailure("the server sent too much")
        }
    }

    @Test("a connection that never answers pings is closed after the ping period")
    func silentConnectionIsClosed() async throws {
        let server = try await TestServer.start { configuration in
            configuration.pingInterval = .milliseconds(300)
            configuration.loginTimeout = .seconds(60)
        }
        let started = ContinuousClock.now
        let socket = try SilentSocket(port: server.ready.port)
        let received = try socket.readUntilClosed()
        let elapsed = ContinuousClock.now - started
        #expect(String(decoding: received.prefix(12), as: UTF8.self) == "HTTP/1.1 101")
        // Pings went out (opcode 0x9) before the close; and it was the ping timeout, not the 60 s login timeout.
        #expect(received.contains(0x89))
        #expect(elapsed < .seconds(10))
        await server.stopAndRemove()
    }
}
