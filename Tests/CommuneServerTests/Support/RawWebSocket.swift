import CommuneClient
import CommuneProtocol
import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A WebSocket client on a plain blocking socket, for tests that need control the client library does not give:
/// several requests written before any reply is read, a client that stops reading, or one that never answers.
///
/// Its calls block, so tests make them through ``run(_:)``, on the socket's own queue: a blocked `recv` must not
/// hold one of the few threads the server under test (in the same process) runs on.
final class RawWebSocket: @unchecked Sendable {
    let descriptor: Int32
    private var received: [UInt8] = []
    private let queue = DispatchQueue(label: "commune.test.raw-websocket")

    /// Runs blocking calls on this socket off the concurrency pool.
    func run<T: Sendable>(_ body: @escaping @Sendable (RawWebSocket) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            self.queue.async {
                continuation.resume(with: Result { try body(self) })
            }
        }
    }

    /// Connects to 127.0.0.1:`port` and sends the upgrade request. `receiveBuffer` shrinks the socket's kernel
    /// receive buffer (set before connecting, so the TCP window stays small).
    init(port: Int, path: String = "/", receiveBuffer: Int32? = nil, timeoutSeconds: Int = 10) throws {
        self.descriptor = try loopbackSocket(port: port, timeoutSeconds: timeoutSeconds, receiveBuffer: receiveBuffer)
        let upgrade = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try self.write(Array(upgrade.utf8))
    }

    deinit { close(self.descriptor) }

    /// Reads the server's answer to the upgrade; returns its status line.
    func readUpgradeResponse() throws -> String {
        let end = Array("\r\n\r\n".utf8)
        while true {
            if let range = self.received.firstRange(of: end) {
                let head = String(decoding: self.received[..<range.lowerBound], as: UTF8.self)
                self.received.removeSubrange(..<range.upperBound)
                return head.components(separatedBy: "\r\n")[0]
            }
            try self.fill()
        }
    }

    /// Sends one masked text frame.
    func sendText(_ text: String) throws {
        let payload = Array(text.utf8)
        var frame: [UInt8] = [0x81]
        switch payload.count {
        case ..<126:
            frame.append(0x80 | UInt8(payload.count))
        case ...Int(UInt16.max):
            frame.append(0x80 | 126)
            frame += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default:
            frame.append(0x80 | 127)
            frame += (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
        frame += mask
        frame += payload.enumerated().map { $1 ^ mask[$0 % 4] }
        try self.write(frame)
    }

    func send(_ envelope: Envelope) throws {
        try self.sendText(envelope.jsonString)
    }

    /// The next frame from the server: its opcode and payload; `nil` when the server closed the socket.
    func readFrame() throws -> (opcode: UInt8, payload: [UInt8])? {
        func need(_ count: Int) throws -> Bool {
            while self.received.count < count {
                if try !self.fill() { return false }
            }
            return true
        }
        guard try need(2) else { return nil }
        let opcode = self.received[0] & 0x0F
        var length = Int(self.received[1] & 0x7F)
        var header = 2
        if length == 126 {
            guard try need(4) else { return nil }
            length = Int(self.received[2]) << 8 | Int(self.received[3])
            header = 4
        } else if length == 127 {
            guard try need(10) else { return nil }
            length = self.received[2..<10].reduce(0) { $0 << 8 | Int($1) }
            header = 10
        }
        guard try need(header + length) else { return nil }
        let payload = Array(self.received[header..<(header + length)])
        self.received.removeSubrange(..<(header + length))
        return (opcode, payload)
    }

    /// The next text frame as an envelope, skipping pings.
    func readEnvelope() throws -> Envelope {
        while let frame = try self.readFrame() {
            if frame.opcode == 0x1 { return try Envelope(json: String(decoding: frame.payload, as: UTF8.self)) }
            if frame.opcode == 0x8 { throw TestFailure("the server closed the connection: \(Self.closeDescription(frame.payload))") }
        }
        throw TestFailure("the socket closed")
    }

    /// Logs in over this socket with the challenge handshake.
    func login(_ identity: Identity) throws -> Envelope {
        try self.send(Envelope(type: .identification, id: "login-1", logMessage: "", data: IdentificationRequest(userID: identity.userID).data))
        let challenge = try ChallengeMessage(data: try self.readEnvelope().data)
        let key = try ChallengeCipher.key(
            privateKey: identity.privateKey, peerPublicKey: try Curve25519.KeyAgreement.PublicKey(base64: challenge.publicKey)
        )
        let answer = try ChallengeCipher.solve(sealed: challenge.challenge, key: key)
        try self.send(Envelope(type: .challengeResponse, id: "login-2", logMessage: "", data: ChallengeResponse(challenge: answer).data))
        return try self.readEnvelope()
    }

    /// Sends a close frame (1000) and reads until the server closes the socket.
    func closeNormally() throws {
        try self.write([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8])
        _ = try self.readUntilClosed(limit: 16 << 20)
    }

    /// Reads until the server closes the socket, bounded by `limit` bytes; returns everything received.
    func readUntilClosed(limit: Int = 1 << 20) throws -> [UInt8] {
        while self.received.count < limit {
            if try !self.fill() { return self.received }
        }
        throw TestFailure("the server sent more than \(limit) bytes")
    }

    /// "code reason" of a close frame's payload.
    static func closeDescription(_ payload: [UInt8]) -> String {
        guard payload.count >= 2 else { return "no code" }
        let code = Int(payload[0]) << 8 | Int(payload[1])
        return "\(code) \(String(decoding: payload.dropFirst(2), as: UTF8.self))"
    }

    /// Reads what is there into `received`; `false` at the end of the stream.
    @discardableResult
    private func fill() throws -> Bool {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        let count = recv(self.descriptor, &buffer, buffer.count, 0)
        if count == 0 { return false }
        guard count > 0 else { throw TestFailure("nothing received before the socket's timeout") }
        self.received += buffer[0..<count]
        return true
    }

    /// Writes raw bytes (frames built by the test).
    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(self.descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw TestFailure("the socket refused to send") }
            offset += sent
        }
    }
}
