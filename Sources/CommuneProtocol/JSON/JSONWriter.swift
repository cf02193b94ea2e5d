/// Serialises ``JSONValue``s to UTF-8 JSON text.
///
/// Hand-written rather than `JSONEncoder` because it sits on the broadcast hot path and because its output is
/// deterministic: object keys are written in sorted order, so the same value always gives the same bytes.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 256) {
        self.bytes = []
        self.bytes.reserveCapacity(capacity)
    }

    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: self.writeRaw("null")
        case .bool(let flag): self.writeRaw(flag ? "true" : "false")
        case .int(let number): self.writeRaw(String(number))
        case .double(let number):
            if number.isFinite {
                if number.rounded() == number && abs(number) < 1e15 {
                    self.writeRaw(String(Int64(number)))
                } else {
                    self.writeRaw("\(number)")
                }
            } else {
                self.writeRaw("null")
            }
        case .string(let text): self.write(string: text)
        case .array(let items):
            self.bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { self.bytes.append(UInt8(ascii: ",")) }
                self.write(item)
            }
            self.bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            self.bytes.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { self.bytes.append(UInt8(ascii: ",")) }
                self.write(string: key)
                self.bytes.append(UInt8(ascii: ":"))
                self.write(members[key]!)
            }
            self.bytes.append(UInt8(ascii: "}"))
        }
    }

    /// Appends already-valid JSON text as it is.
    public mutating func writeRaw(_ text: String) {
        self.bytes.append(contentsOf: text.utf8)
    }

    public mutating func write(string: String) {
        self.bytes.append(UInt8(ascii: "\""))
        // Runs of bytes that need no escape are copied whole (most strings are one run).
        var string = string
        string.withUTF8 { utf8 in
            var start = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0x7F else { continue }
                self.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                self.writeEscaped(byte)
                start = index + 1
            }
            self.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        self.bytes.append(UInt8(ascii: "\""))
    }

    private mutating func writeEscaped(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case 0x0A: self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case 0x0D: self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case 0x09: self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        default:
            let hex: [UInt8] = Array("0123456789abcdef".utf8)
            self.bytes.append(contentsOf: [
                UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                hex[Int(byte >> 4)], hex[Int(byte & 0x0F)],
            ])
        }
    }
}

extension JSONValue {
    /// The value as compact JSON text with sorted keys.
    public var jsonString: String {
        var writer = JSONWriter()
        writer.write(self)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
