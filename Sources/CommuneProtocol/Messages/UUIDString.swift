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
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
        }.joined()
        let characters = Array(hex)
        let text =
            String(characters[0..<8]) + "-" + String(characters[8..<12]) + "-" + String(characters[12..<16]) + "-"
            + String(characters[16..<20]) + "-" + String(characters[20..<32])
        return UUIDString(text)!
    }

    public var description: String { self.value }
    public static func < (lhs: UUIDString, rhs: UUIDString) -> Bool { lhs.value < rhs.value }
}
