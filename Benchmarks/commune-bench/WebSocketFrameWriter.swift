import NIOCore

/// Writes a WebSocket client's frames: masked, as RFC 6455 requires of clients, with one key per connection.
///
/// Apart from ``WebSocketClientCodec`` because a session answers pings while the codec is still reading.
struct WebSocketFrameWriter {
    private let maskKey: [UInt8]

    init() {
        var generator = SystemRandomNumberGenerator()
        let key = UInt32.random(in: 1...UInt32.max, using: &generator)
        self.maskKey = [UInt8(key >> 24), UInt8((key >> 16) & 0xFF), UInt8((key >> 8) & 0xFF), UInt8(key & 0xFF)]
    }

    /// A masked client frame carrying `payload` with `opcode` (1 text, 8 close, 10 pong).
    func frame(opcode: UInt8, payload: UnsafeRawBufferPointer, allocator: ByteBufferAllocator) -> ByteBuffer {
        let length = payload.count
        var buffer = allocator.buffer(capacity: length + 14)
        buffer.writeInteger(0x80 | opcode)
        if length < 126 {
            buffer.writeInteger(UInt8(0x80 | length))
        } else if length <= Int(UInt16.max) {
            buffer.writeInteger(UInt8(0x80 | 126))
            buffer.writeInteger(UInt16(length))
        } else {
            buffer.writeInteger(UInt8(0x80 | 127))
            buffer.writeInteger(UInt64(length))
        }
        let key = self.maskKey
        buffer.writeBytes(key)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { target in
            for index in 0..<length { target[index] = payload[index] ^ key[index & 3] }
            return length
        }
        return buffer
    }

    func textFrame(_ bytes: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        bytes.withUnsafeBytes { self.frame(opcode: 0x1, payload: $0, allocator: allocator) }
    }

    func pong(_ payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        payload.withUnsafeReadableBytes { self.frame(opcode: 0xA, payload: $0, allocator: allocator) }
    }

    func close(allocator: ByteBufferAllocator) -> ByteBuffer {
        [UInt8(0x03), UInt8(0xE8)].withUnsafeBytes { self.frame(opcode: 0x8, payload: $0, allocator: allocator) }
    }
}
