import Foundation
import NIOCore

/// A minimal WebSocket client on raw bytes: the HTTP/1.1 upgrade, then reading frames (``WebSocketFrameWriter``
/// writes them).
///
/// Written directly on `ByteBuffer` rather than with NIO's HTTP and frame handlers so that a received frame costs
/// no pipeline hops and no copies: the readable bytes of one socket read are parsed in place and every text
/// message is handed on as a slice.
struct WebSocketClientCodec {
    enum Event {
        /// The server accepted the upgrade.
        case upgraded
        /// One complete text (or binary) message.
        case message(ByteBuffer)
        /// The server sent a ping; answer it with ``pong(_:allocator:)``.
        case ping(ByteBuffer)
        /// The server closed the connection, with its close code if it gave one.
        case closed(code: UInt16?, reason: String)
        /// The upgrade or a frame was malformed.
        case failed(String)
    }

    private var upgraded = false
    private var pending: ByteBuffer?
    private var fragments: ByteBuffer?

    init() {}

    /// The upgrade request for `ws://host:port/`.
    static func upgradeRequest(host: String, port: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        var generator = SystemRandomNumberGenerator()
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
        let shownHost = host.contains(":") ? "[\(host)]" : host
        let text =
            "GET / HTTP/1.1\r\nHost: \(shownHost):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
        return allocator.buffer(string: text)
    }

    /// Parses what one socket read brought; calls `handle` for each event in order.
    mutating func receive(_ incoming: ByteBuffer, _ handle: (Event) -> Void) {
        var buffer: ByteBuffer
        if var pending = self.pending {
            self.pending = nil  // so that appending does not copy
            var incoming = incoming
            pending.writeBuffer(&incoming)
            buffer = pending
        } else {
            buffer = incoming
        }
        defer {
            if buffer.readableBytes > 0 {
                buffer.discardReadBytes()
                self.pending = buffer
            }
        }

        if !self.upgraded {
            guard let end = ByteScan.find(Array("\r\n\r\n".utf8), in: buffer) else {
                if buffer.readableBytes > 16384 { handle(.failed("The upgrade response is too long.")) }
                return
            }
            let head = buffer.readString(length: end + 4) ?? ""
            guard head.hasPrefix("HTTP/1.1 101") else {
                let statusLine = head.split(separator: "\r\n").first.map(String.init) ?? head
                handle(.failed("The server refused the WebSocket upgrade: \(statusLine)"))
                buffer.clear()
                return
            }
            self.upgraded = true
            handle(.upgraded)
        }

        while buffer.readableBytes >= 2 {
            let start = buffer.readerIndex
            guard let first = buffer.getInteger(at: start, as: UInt8.self),
                let second = buffer.getInteger(at: start + 1, as: UInt8.self)
            else { return }
            let fin = first & 0x80 != 0
            let opcode = first & 0x0F
            let masked = second & 0x80 != 0
            var length = Int(second & 0x7F)
            var headerLength = 2
            if length == 126 {
                guard let extended = buffer.getInteger(at: start + 2, as: UInt16.self) else { return }
                length = Int(extended)
                headerLength = 4
            } else if length == 127 {
                guard let extended = buffer.getInteger(at: start + 2, as: UInt64.self) else { return }
                guard extended < 1 << 30 else {
                    handle(.failed("A frame claims \(extended) bytes."))
                    buffer.clear()
                    return
                }
                length = Int(extended)
                headerLength = 10
            }
            if masked { headerLength += 4 }
            guard buffer.readableBytes >= headerLength + length else { return }
            buffer.moveReaderIndex(forwardBy: headerLength)
            var payload = buffer.readSlice(length: length)!
            if masked {
                // Servers do not mask; accept it anyway.
                let keyOffset = start + headerLength - 4
                let key = buffer.getBytes(at: keyOffset, length: 4) ?? [0, 0, 0, 0]
                var bytes = payload.readBytes(length: length) ?? []
                for index in bytes.indices { bytes[index] ^= key[index & 3] }
                payload = ByteBuffer(bytes: bytes)
            }
            switch opcode {
            case 0x1, 0x2:
                if fin { handle(.message(payload)) } else { self.fragments = payload }
            case 0x0:
                guard var collected = self.fragments else { continue }
                collected.writeBuffer(&payload)
                if fin {
                    self.fragments = nil
                    handle(.message(collected))
                } else {
                    self.fragments = collected
                }
            case 0x8:
                let code = payload.readInteger(as: UInt16.self)
                let reason = payload.readString(length: payload.readableBytes) ?? ""
                handle(.closed(code: code, reason: reason))
            case 0x9:
                handle(.ping(payload))
            default:
                break
            }
        }
    }
}
