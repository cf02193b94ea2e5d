import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Byte-level searches on received frames, so that the generator reads a delivery without parsing its JSON or
/// XML: at a hundred thousand deliveries a second the generator must not be the bottleneck.
enum ByteScan {
    /// Where `needle` first occurs in the readable bytes of `buffer` (an offset from `readerIndex`), or nil.
    static func find(_ needle: [UInt8], in buffer: ByteBuffer, from start: Int = 0) -> Int? {
        buffer.withUnsafeReadableBytes { bytes -> Int? in
            guard let base = bytes.baseAddress, let first = needle.first else { return nil }
            let last = bytes.count - needle.count
            var offset = start
            return needle.withUnsafeBytes { needleBytes -> Int? in
                while offset <= last {
                    // memchr finds the candidate first byte; memcmp checks the rest. (memmem is a GNU extension
                    // that the Glibc module does not export.)
                    guard let hit = memchr(base + offset, Int32(first), last - offset + 1) else { return nil }
                    let at = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(base + at, needleBytes.baseAddress!, needle.count) == 0 { return at }
                    offset = at + 1
                }
                return nil
            }
        }
    }

    static func contains(_ needle: [UInt8], in buffer: ByteBuffer) -> Bool {
        self.find(needle, in: buffer) != nil
    }

    /// How many times `needle` occurs (not overlapping).
    static func count(_ needle: [UInt8], in buffer: ByteBuffer) -> Int {
        var count = 0
        var start = 0
        while let found = self.find(needle, in: buffer, from: start) {
            count += 1
            start = found + needle.count
        }
        return count
    }

    /// The offset of the last `byte` in the readable bytes, or nil.
    static func lastIndex(of byte: UInt8, in buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { bytes -> Int? in
            var index = bytes.count - 1
            while index >= 0 {
                if bytes[index] == byte { return index }
                index -= 1
            }
            return nil
        }
    }

    /// Reads the decimal number starting at `offset`; returns it and the offset just after its last digit.
    static func number(in buffer: ByteBuffer, at offset: Int) -> (value: UInt64, end: Int)? {
        buffer.withUnsafeReadableBytes { bytes -> (UInt64, Int)? in
            var value: UInt64 = 0
            var index = offset
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                value = value &* 10 &+ UInt64(bytes[index] - 0x30)
                index += 1
            }
            return index == offset ? nil : (value, index)
        }
    }
}
