import CommuneProtocol
import CommuneServer
import Foundation
import Testing

@testable import CommuneServer

/// Issue 11, items 15, 17, 20 and 22: connection-level abuse, over raw sockets with exact bytes.
@Suite("Connection limits")
struct ConnectionLimitTests {
    // MARK: Oversized and contradictory HTTP requests (item 22)

    /// Sends `request` on a fresh connection and returns everything the server sent before closing.
    static func exchange(_ request: [UInt8], server: TestServer) async throws -> [UInt8] {
        let connection = try RawHTTP(port: server.ready.port)
        return try await connection.run { connection in
            connection.write(request)
            return try connection.readUntilClosed()
        }
    }

    static func exchange(_ request: String, server: TestServer) async throws -> [UInt8] {
        try await Self.exchange(Array(request.utf8), server: server)
    }

    /// A kept-alive connection that has been admitted (its first request answered 200) and stays open.
    static func heldConnection(_ server: TestServer) async throws -> RawHTTP {
        let connection = try RawHTTP(port: server.ready.port)
        let answer = try await connection.run { connection -> [UInt8] in
            connection.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            var answer: [UInt8] = []
            for _ in 0..<100 where !String(decoding: answer, as: UTF8.self).hasSuffix("ok\n") {
                answer += connection.readAvailable(within: 0.05)
            }
            return answer
        }
        #expect(RawHTTP.statusLine(answer) == "HTTP/1.1 200 OK")
        return connection
    }

    @Test("oversized request heads get 431 and are closed: 100 KB and 16 MB of one header, 10,000 headers")
    func oversizedHeads() async throws {
        let server = try await TestServer.start()
        for size in [100_000, 16 << 20] {
            let request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + String(repeating: "a", count: size) + "\r\n\r\n"
            let answer = try await Self.exchange(request, server: server)
            #expect(RawHTTP.statusLine(answer) == "HTTP/1.1 431 Request Header Fields Too Large", "\(size) bytes")
        }
        let many = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (0..<10_000).map { "X-H\($0): v\r\n" }.joined() + "\r\n"
        let answer = try await Self.exchange(many, server: server)
        #expect(RawHTTP.statusLine(answer) == "HTTP/1.1 431 Request Header Fields Too Large")
        #expect(String(decoding: answer, as: UTF8.self).contains("more than 100 header fields"))
        await server.stopAndRemove()
    }

    @Test("a 200 KB URL gets 414 and is closed")
    func longURL() async throws {
        let server = try await TestServer.start()
        let answer = try await Self.exchange("GET /" + String(repeating: "a", count: 200_000) + " HTTP/1.1\r\nHost: x\r\n\r\n", server: server)
        #expect(RawHTTP.statusLine(answer) == "HTTP/1.1 414 URI Too Long")
        await server.stopAndRemove()
    }

    @Test("contradictory or invalid framing gets 400 and is closed")
    func contradictoryFraming() async throws {
        let server = try await TestServer.start()
        let requests = [
            "POST /api/attachments HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "POST /api/attachments HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            "POST /api/attachments HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
            "POST /api/attachments HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
            // Not HTTP at all: the decoder's error is answered too.
            "GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
        ]
        for request in requests {
            let answer = try await Self.exchange(request, server: server)
            #expect(RawHTTP.statusLine(answer) == "HTTP/1.1 400 Bad Request", "\(request.debugDescription)")
            #expect(String(decoding: answer, as: UTF8.self).contains("Connection: close"))
        }
        await server.stopAndRemove()
    }

    @Test("kept-alive connections still work: pipelined requests after a chunked body and after a sized body")
    func keepAliveStillWorks() async throws {
        let server = try await TestServer.start()
        let connection = try RawHTTP(port: server.ready.port)
        let answer = try await connection.run { connection in
            connection.write(
                "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n"
                    + "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                    + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            // Until the three answers are in (a loaded machine may take seconds), then a moment for anything extra.
            var answer: [UInt8] = []
            let deadline = Date().addingTimeInterval(10)
            while RawHTTP.statusLines(answer).count < 3, Date() < deadline { answer += connection.readAvailable(within: 0.2) }
            return answer + connection.readAvailable(within: 0.2)
        }
        let lines = RawHTTP.statusLines(answer)
        #expect(lines.count == 3)
        #expect(lines.last == "HTTP/1.1 200 OK")
        #expect(!lines.contains { $0.hasPrefix("HTTP/1.1 4") && !$0.hasPrefix("HTTP/1.1 404") && !$0.hasPrefix("HTTP/1.1 405") })
        await server.stopAndRemove()
    }

    // MARK: Slow and silent connections, caps (item 15)

    @Test("a slowloris request head gets 408 after the head timeout, however slowly it keeps sending")
    func slowloris() async throws {
        let server = try await TestServer.start { $0.connectionLimits.requestHeadTimeout = .milliseconds(600) }
        let connection = try RawHTTP(port: server.ready.port)
        let started = ContinuousClock.now
        let answer = try await connection.run { connection -> [UInt8] in
            connection.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            // One header byte every 100 ms: never idle, never finished.
            for _ in 0..<30 {
                guard connection.write("X") else { break }
                let answer = connection.readAvailable(within: 0.1)
                if !answer.isEmpty { return answer + ((try? connection.readUntilClosed()) ?? []) }
            }
            return []
        }
        #expect(RawHTTP.statusLine(answer) == "HTTP/1.1 408 Request Timeout")
        #expect(ContinuousClock.now - started < .seconds(3))
        await server.stopAndRemove()
    }

    @Test("a connection that never speaks is closed after the head timeout; so is a WebSocket that never sends a message (1008)")
    func silentConnections() async throws {
        let server = try await TestServer.start { $0.connectionLimits.requestHeadTimeout = .milliseconds(500) }
        let started = ContinuousClock.now
        let connection = try RawHTTP(port: server.ready.port)
        #expect(try await connection.run { try $0.readUntilClosed() } == [])
        #expect(ContinuousClock.now - started < .seconds(3))

        let socket = try await server.rawSocket()
        let close = try await socket.run { try $0.closeFrame() }
        #expect(close == "1008 no request")
        #expect(ContinuousClock.now - started < .seconds(5))
        await server.stopAndRemove()
    }

    @Test("connections per source address are capped (loopback included): the next one gets 503, a freed place is reused")
    func perAddressCap() async throws {
        let server = try await TestServer.start { $0.connectionLimits.maxConnectionsPerAddress = 3 }
        var held: [RawHTTP] = []
        for _ in 0..<3 { held.append(try await Self.heldConnection(server)) }
        let refused = try await Self.exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", server: server)
        #expect(RawHTTP.statusLine(refused) == "HTTP/1.1 503 Service Unavailable")
        #expect(String(decoding: refused, as: UTF8.self).contains("Too many connections from your address"))
        held.removeLast()  // closes one: its place is freed once the server sees the end of the stream
        var status = ""
        for _ in 0..<50 where status != "HTTP/1.1 200 OK" {
            status = RawHTTP.statusLine(try await Self.exchange("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", server: server))
            if status != "HTTP/1.1 200 OK" { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(status == "HTTP/1.1 200 OK")
        _ = held
        await server.stopAndRemove()
    }

    @Test("when the pool of connections not logged in is full, new ones get 503 and logged-in members go on")
    func preLoginPool() async throws {
        let server = try await TestServer.start { $0.connectionLimits.maxConnectionsBeforeLogin = 3 }
        let (member, _) = try await server.rawMember("alice")
        // The member's connection has left the pool: three others fit, the fourth does not.
        var held: [RawHTTP] = []
        for _ in 0..<3 { held.append(try await Self.heldConnection(server)) }
        let refused = try await Self.exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", server: server)
        #expect(RawHTTP.statusLine(refused) == "HTTP/1.1 503 Service Unavailable")
        #expect(String(decoding: refused, as: UTF8.self).contains("Retry-After: 10"))
        let reply = try await member.answer(#"{"type":"ping","id":"p1","data":{}}"#)
        #expect(reply.id == "p1")
        _ = held
        await server.stopAndRemove()
    }

    @Test("the open file limit is raised to the hard limit")
    func descriptorLimit() throws {
        let limit = try #require(DescriptorLimit.raise())
        var current = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &current)
        #expect(limit == Int(clamping: current.rlim_cur))
        #expect(current.rlim_cur == current.rlim_max)
    }

    // MARK: WebSocket conformance (item 17) and memory before login (item 20)

    /// A client frame: masked unless told otherwise.
    static func frame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, masked: Bool = true) -> [UInt8] {
        var frame: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        let maskBit: UInt8 = masked ? 0x80 : 0
        switch payload.count {
        case ..<126: frame.append(maskBit | UInt8(payload.count))
        case ...Int(UInt16.max): frame += [maskBit | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default: frame += [maskBit | 127] + (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        guard masked else { return frame + payload }
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        return frame + mask + payload.enumerated().map { $1 ^ mask[$0 % 4] }
    }

    /// Writes `frames` on a fresh (not logged-in) WebSocket and returns the close frame the server sends.
    static func close(after frames: [[UInt8]], server: TestServer, timeoutSeconds: Int = 10) async throws -> String? {
        let socket = try await server.rawSocket(timeoutSeconds: timeoutSeconds)
        return try await socket.run { socket in
            try? socket.write(frames.flatMap { $0 })
            return try socket.closeFrame()
        }
    }

    static let ping = Array(#"{"type":"ping","id":"p","data":{}}"#.utf8)

    @Test("invalid UTF-8 in text closes with 1007: raw bytes, overlong, surrogate, a code point cut at the message's end")
    func invalidUTF8() async throws {
        let server = try await TestServer.start()
        let cases: [[[UInt8]]] = [
            [Self.frame(0x1, [0x7B, 0xFF, 0x7D])],
            [Self.frame(0x1, [0xC0, 0xAF])],
            [Self.frame(0x1, [0xE0, 0x80, 0xAF])],
            [Self.frame(0x1, [0xED, 0xA0, 0x80])],
            [Self.frame(0x1, [0xF4, 0x90, 0x80, 0x80])],
            [Self.frame(0x1, [0x7B, 0xC3], fin: false), Self.frame(0x0, [0x7D])],
            [Self.frame(0x1, [0x7B, 0xE2, 0x82], fin: false), Self.frame(0x0, [])],
        ]
        for frames in cases {
            #expect(try await Self.close(after: frames, server: server) == "1007 invalid UTF-8", "\(frames)")
        }
        await server.stopAndRemove()
    }

    @Test("a code point split across fragments is fine")
    func splitCodePoint() async throws {
        let server = try await TestServer.start()
        let socket = try await server.rawSocket()
        // {"type":"ping","id":"é","data":{}} with "é" (C3 A9) split between the two fragments.
        let text = Array(#"{"type":"ping","id":"é","data":{}}"#.utf8)
        let cut = text.firstIndex(of: 0xC3)! + 1
        let reply = try await socket.run { socket -> Envelope in
            try socket.write(Self.frame(0x1, Array(text[..<cut]), fin: false) + Self.frame(0x0, Array(text[cut...])))
            return try socket.readEnvelope()
        }
        #expect(reply.id == "é")
        await server.stopAndRemove()
    }

    @Test("protocol errors close with 1002: unmasked frame, orphan continuation, new message inside a fragmented one")
    func protocolErrors() async throws {
        let server = try await TestServer.start()
        #expect(try await Self.close(after: [Self.frame(0x1, Self.ping, masked: false)], server: server) == "1002 unmasked frame")
        #expect(try await Self.close(after: [Self.frame(0x0, Self.ping)], server: server) == "1002 continuation frame outside a message")
        let started = Self.frame(0x1, Array(Self.ping.prefix(5)), fin: false)
        #expect(try await Self.close(after: [started, Self.frame(0x1, Self.ping)], server: server) == "1002 new message inside a fragmented message")
        #expect(try await Self.close(after: [Self.frame(0x3, [])], server: server) == "1002 reserved opcode")
        #expect(try await Self.close(after: [[0xC1, 0x80, 0, 0, 0, 0]], server: server) == "1002 reserved bits set")
        #expect(try await Self.close(after: [Self.frame(0x9, [], fin: false)], server: server) == "1002 invalid control frame")
        await server.stopAndRemove()
    }

    @Test("before login a message may not exceed the handshake limit (1009), announced or fragmented; nothing is buffered")
    func preLoginMessageCap() async throws {
        let server = try await TestServer.start()
        // A frame header announcing 1 MiB: refused at the header, before any payload is sent.
        let header: [UInt8] = [0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4]
        #expect(try await Self.close(after: [header], server: server) == "1009 message too large")
        let fragments = (0..<3).map { Self.frame($0 == 0 ? 0x1 : 0x0, Array(repeating: 0x20, count: 4_000), fin: $0 == 2) }
        #expect(try await Self.close(after: fragments, server: server) == "1009 message too large")
        // 200 connections, each announcing 1 MiB, are all refused. Each socket may wait longer than usual for its
        // answer: 200 blocking readers share the test process's threads, and in the full suite on 2 cores one of
        // them was not read within 10 s (a clean-clone CI run; alone the burst takes 0.4 s, in the suite 18 s).
        let sockets = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<200 { group.addTask { try await Self.close(after: [header], server: server, timeoutSeconds: 60) } }
            return try await group.reduce(into: [String?]()) { $0.append($1) }
        }
        #expect(sockets.allSatisfy { $0 == "1009 message too large" })
        await server.stopAndRemove()
    }

    @Test("after login the message cap is maxFrameBytes: 200 KiB is answered too_large, over 1 MiB in fragments closes 1009")
    func loggedInMessageCap() async throws {
        let server = try await TestServer.start()
        let (socket, _) = try await server.rawMember("alice")
        let big = Array(#"{"type":"ping","id":"big","data":{"x":""#.utf8) + Array(repeating: 0x61, count: 200 << 10) + Array(#""}}"#.utf8)
        let reply = try await socket.run { socket -> Envelope in
            try socket.write(Self.frame(0x1, big))
            return try socket.readEnvelope()
        }
        #expect(reply.type == .error)
        let fragments = (0..<3).map { Self.frame($0 == 0 ? 0x1 : 0x0, Array(repeating: 0x20, count: 400 << 10), fin: $0 == 2) }
        let close = try await socket.run { socket -> String? in
            try? socket.write(fragments.flatMap { $0 })
            return try socket.closeFrame()
        }
        #expect(close == "1009 message too large")
        await server.stopAndRemove()
    }
}

extension RawWebSocket {
    /// Reads until the server's close frame; its "code reason", or `nil` if the socket closed without one.
    func closeFrame() throws -> String? {
        while let frame = try self.readFrame() {
            if frame.opcode == 0x8 { return RawWebSocket.closeDescription(frame.payload) }
        }
        return nil
    }
}
