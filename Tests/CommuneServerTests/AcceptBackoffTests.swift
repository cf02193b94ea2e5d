import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real `commune` binary, run as a child process whose open file limit is then lowered (lowering the test
/// process's own limit would starve every other test): once it cannot accept, it must rest instead of spinning a
/// core, and serve again as soon as descriptors are free.
@Suite("Accepting when descriptors run out")
struct AcceptBackoffTests {
    @Test("out of descriptors the server rests instead of spinning, says so once, and serves again when some are free")
    func restsAndRecovers() async throws {
        // No voice: a Janus starting after the limit is lowered would take descriptors the test counted as free.
        let child = try ServeProcess(arguments: ["--voice", "off", "--no-own-turn"])
        defer { child.stop() }
        try await child.waitUntilListening()

        // Room for 16 more descriptors, then 48 connections: the rest wait in the listening socket's backlog.
        let limit = child.openDescriptors + 16
        try child.limitDescriptors(to: limit)
        var sockets: [Int32] = []
        defer { for socket in sockets { close(socket) } }
        for _ in 0..<48 { sockets.append(try loopbackSocket(port: child.port, timeoutSeconds: 10)) }
        for _ in 0..<50 where child.openDescriptors < limit { try await Task.sleep(for: .milliseconds(100)) }
        #expect(child.openDescriptors >= limit)

        let before = try child.cpuSeconds()
        try await Task.sleep(for: .seconds(2))
        let used = try child.cpuSeconds() - before
        #expect(used < 0.3, "the server used \(used) s of CPU in 2 s while it could not accept")

        for socket in sockets { close(socket) }
        sockets = []
        let health = try RawHTTP(port: child.port, timeoutSeconds: 10)
        let response = try await health.run { connection in
            connection.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return try connection.readUntilClosed()
        }
        #expect(RawHTTP.statusLine(response) == "HTTP/1.1 200 OK")
        #expect(String(decoding: response, as: UTF8.self).hasSuffix("ok\n"))

        // One warning, though a server that accepts again may fill its few free descriptors at once and fail again.
        let log = child.standardError
        #expect(log.components(separatedBy: "Cannot accept connections: the process has as many files open as its limit allows (EMFILE)").count == 2, "\(log)")
        #expect(log.contains("ulimit -n"))
        #expect(log.contains("Accepting connections again after"))
    }
}
