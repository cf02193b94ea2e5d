/// A UUID in its canonical lower-case text form, validated without Foundation.
///
/// Member ids are UUIDs chosen by the client; the wire and the store both keep the text form, so comparing and
/// hashing stay cheap and no re-formatting ever changes an id.
public struct UUIDString: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let value: String

    /// Accepts `8-4-4-4-12` hexadecimal digits in either case; stores them lower-cased.
    public init?(_ text: String) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 36 else { return nil }
        for (index, byte) in utf8.enumerated() {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
            } else {
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
                    UInt8(ascii: "A")...UInt8(ascii: "F"):
                    continue
                default: return nil
                }
            }
        }
        self.value = text.lowercased()
    }

    /// A new random (version 4) UUID.
    public static func random() -> UUIDString {
        var generator = SystemRandomNumberGenerator()
        return UUIDString(high: generator.next(), low: generator.next())
    }

    /// The version 4 UUID made of these 128 bits (the version and variant bits are overwritten).
    public init(high: UInt64, low: UInt64) {
        let high = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(36)
        for bits in [high, low] {
            for nibble in stride(from: 60, through: 0, by: -4) {
                let position = text.count
                if position == 8 || position == 13 || position == 18 || position == 23 {
                    text.append(UInt8(ascii: "-"))
                }
                text.append(digits[Int((bits >> UInt64(nibble)) & 0xF)])
            }
        }
        self.value = String(decoding: text, as: UTF8.self)
    }

    public var description: String { self.value }
    public static func < (lhs: UUIDString, rhs: UUIDString) -> Bool { lhs.value < rhs.value }
}
