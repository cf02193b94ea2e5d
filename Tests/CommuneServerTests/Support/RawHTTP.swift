import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to the server on loopback, for tests that send exact bytes (malformed or unfinished HTTP
/// requests) and read exactly what comes back. Its calls block, so tests make them through ``run(_:)``.
final class RawHTTP: @unchecked Sendable {
    let descriptor: Int32
    private let queue = DispatchQueue(label: "commune.test.raw-http")

    func run<T: Sendable>(_ body: @escaping @Sendable (RawHTTP) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            self.queue.async { continuation.resume(with: Result { try body(self) }) }
        }
    }

    /// Connects to 127.0.0.1:`port`; reads give up after `timeoutSeconds` without data.
    init(port: Int, timeoutSeconds: Int = 10) throws {
        self.descriptor = try loopbackSocket(port: port, timeoutSeconds: timeoutSeconds)
    }

    deinit { close(self.descriptor) }

    /// Writes `bytes`; `false` when the server stopped taking them (it closed or reset the connection).
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(self.descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    @discardableResult
    func write(_ text: String) -> Bool { self.write(Array(text.utf8)) }

    /// Reads until the server closes the connection (or resets it), at most `limit` bytes.
    func readUntilClosed(limit: Int = 1 << 20) throws -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while received.count < limit {
            let count = recv(self.descriptor, &buffer, buffer.count, 0)
            if count == 0 || (count < 0 && errno == ECONNRESET) { return received }
            guard count > 0 else { throw TestFailure("the server neither answered nor closed before the socket's timeout") }
            received += buffer[0..<count]
        }
        throw TestFailure("the server sent more than \(limit) bytes")
    }

    /// Reads what arrives within `seconds`, without waiting for the end of the stream.
    func readAvailable(within seconds: Double) -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var poller = pollfd(fd: self.descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let count = recv(self.descriptor, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return received
    }

    /// The status line of the first response in `bytes`.
    static func statusLine(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")[0]
    }

    /// Every status line in `bytes` (responses to pipelined requests).
    static func statusLines(_ bytes: [UInt8]) -> [String] {
        String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n").filter { $0.hasPrefix("HTTP/1.1 ") }
    }
}

/// A TCP socket connected to 127.0.0.1:`port` whose reads give up after `timeoutSeconds`; `receiveBuffer` shrinks its
/// kernel receive buffer (set before connecting, so the TCP window stays small).
func loopbackSocket(port: Int, timeoutSeconds: Int, receiveBuffer: Int32? = nil) throws -> Int32 {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    if var size = receiveBuffer {
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(descriptor)
        throw TestFailure("cannot connect to 127.0.0.1:\(port)")
    }
    var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    return descriptor
}
