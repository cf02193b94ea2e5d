/// The `id` and `type` of a frame that is not a readable envelope (cut-off or invalid JSON, a `data` that is not an
/// object, a frame over the size limit), read leniently so that the `error` can still answer the request it was.
///
/// Scans the top-level object's members in one pass over the bytes, without building any value: the values of
/// other members are skipped (strings, numbers, nested objects and arrays, whatever their depth, with no recursion),
/// so the work is linear in the frame's size and allocates nothing but the two small strings it returns. Stops at
/// the first byte it cannot make sense of, keeping what it read before it.
public struct EnvelopeHeader: Sendable, Hashable {
    /// The request's `id`, under the same rules as ``Envelope/init(json:)``: a string of at most 128 bytes, or an
    /// integer.
    public var id: String?
    /// The request's `type`, when it is a string.
    public var type: MessageType?

    public init(id: String? = nil, type: MessageType? = nil) {
        self.id = id
        self.type = type
    }

    /// Scans `text` (a text frame).
    public init(scanning text: String) {
        var text = text
        self = text.withUTF8 { Self(scanning: $0) }
    }

    /// Scans `bytes` (the payload of a frame).
    public init(scanning bytes: [UInt8]) {
        self = bytes.withUnsafeBufferPointer { Self(scanning: $0) }
    }

    init(scanning bytes: UnsafeBufferPointer<UInt8>) {
        self.init()
        var scanner = HeaderScanner(bytes: bytes)
        scanner.skipWhitespace()
        guard scanner.take(UInt8(ascii: "{")) else { return }
        while self.id == nil || self.type == nil {
            scanner.skipWhitespace()
            guard let key = scanner.stringToken() else { return }
            scanner.skipWhitespace()
            guard scanner.take(UInt8(ascii: ":")) else { return }
            scanner.skipWhitespace()
            switch HeaderScanner.decodeString(bytes, key) {
            case "id"?:
                let value = scanner.index
                guard scanner.skipValue() else { return }
                self.id = HeaderScanner.id(bytes, value..<scanner.index)
            case "type"?:
                guard let token = scanner.stringToken() else {
                    guard scanner.skipValue() else { return }
                    break
                }
                self.type = HeaderScanner.decodeString(bytes, token).map(MessageType.init(rawValue:))
            default:
                guard scanner.skipValue() else { return }
            }
            scanner.skipWhitespace()
            guard scanner.take(UInt8(ascii: ",")) else { return }
        }
    }
}

/// The byte-level reading behind ``EnvelopeHeader``.
private struct HeaderScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    var current: UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

    mutating func skipWhitespace() {
        while let byte = self.current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { self.index += 1 }
    }

    mutating func take(_ byte: UInt8) -> Bool {
        guard self.current == byte else { return false }
        self.index += 1
        return true
    }

    /// A string token (quotes included) at the current position, or `nil` (position unchanged) if there is none.
    mutating func stringToken() -> Range<Int>? {
        guard self.current == UInt8(ascii: "\"") else { return nil }
        let start = self.index
        var index = self.index + 1
        while index < self.bytes.count {
            switch self.bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""):
                self.index = index + 1
                return start..<self.index
            default: index += 1
            }
        }
        return nil
    }

    /// Skips one value of any kind; `false` when the text ends first or nothing value-like is there.
    mutating func skipValue() -> Bool {
        guard let first = self.current else { return false }
        switch first {
        case UInt8(ascii: "\""):
            return self.stringToken() != nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while let byte = self.current {
                switch byte {
                case UInt8(ascii: "\""):
                    guard self.stringToken() != nil else { return false }
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        self.index += 1
                        return true
                    }
                default:
                    break
                }
                self.index += 1
            }
            return false
        default:
            // A number or a literal: up to the next delimiter.
            let start = self.index
            while let byte = self.current, !Self.delimiters.contains(byte) { self.index += 1 }
            return self.index > start
        }
    }

    static let delimiters: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: ":")]

    /// The text of a short string token, escapes decoded; `nil` for a long or malformed one.
    static func decodeString(_ bytes: UnsafeBufferPointer<UInt8>, _ token: Range<Int>) -> String? {
        guard token.count <= 1_024 else { return nil }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[token]), as: UTF8.self)
        guard case .string(let string)? = try? JSONValue.parse(text) else { return nil }
        return string
    }

    /// An `id` value as ``Envelope/init(json:)`` takes it: a string of at most 128 bytes, or an integer.
    static func id(_ bytes: UnsafeBufferPointer<UInt8>, _ token: Range<Int>) -> String? {
        guard token.count <= 1_024 else { return nil }
        switch try? JSONValue.parse(String(decoding: UnsafeBufferPointer(rebasing: bytes[token]), as: UTF8.self)) {
        case .string(let id)? where id.utf8.count <= 128: return id
        case .int(let number)?: return String(number)
        default: return nil
        }
    }
}
