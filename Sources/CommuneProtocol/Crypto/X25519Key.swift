/// Facts about raw 32-byte X25519 public keys (little-endian u-coordinates, RFC 7748) that key agreement itself
/// does not check.
///
/// X25519 ignores bit 255 of a key and reads a u-coordinate at or above p = 2^255 − 19 modulo p, so up to four
/// byte strings name the same point and give the same shared secret: keys are compared, stored and banned in their
/// ``canonical(_:)`` form. A point of small order (its order divides 8) gives the same predictable shared secret
/// whatever the private key: such keys are refused (``isSmallOrder(_:)``).
public enum X25519Key {
    /// The field prime p = 2^255 − 19, little-endian.
    public static let prime: [UInt8] = [0xED] + [UInt8](repeating: 0xFF, count: 30) + [0x7F]

    /// The u-coordinates (canonical, little-endian) of every point of small order on Curve25519 and its twist: the
    /// points whose order divides 8. Computed as [ℓ]P for random points P of the curve (order 8ℓ) and [ℓ′]P of the
    /// twist (order 4ℓ′), and checked to satisfy [8]P = O. The point at infinity has no u-coordinate; X25519
    /// encodes it as 0, listed here for the order-2 point (0, 0).
    public static let smallOrderPoints: [[UInt8]] = [
        // 0: the point of order 2 (and the encoding of infinity).
        [UInt8](repeating: 0, count: 32),
        // 1: order 4.
        [0x01] + [UInt8](repeating: 0, count: 31),
        // 325606250916557431795983626356110631294008115727848805560023387167927233504: order 8.
        Self.bytes("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
        // 39382357235489614581723060781553021112529911719440698176882885853963445705823: order 8.
        Self.bytes("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
        // p − 1: order 4 on the twist.
        [0xEC] + [UInt8](repeating: 0xFF, count: 30) + [0x7F],
    ]

    /// Every 32-byte string X25519 reads as one of ``smallOrderPoints``: each point, the same with bit 255 set,
    /// and the non-canonical u + p where that is below 2^255 (p for 0, p + 1 for 1), also with bit 255 set.
    public static var smallOrderEncodings: [[UInt8]] { self.smallOrderPoints.flatMap(self.encodings(of:)) }

    /// The key with bit 255 cleared and a u-coordinate at or above p reduced modulo p: one byte string per point.
    public static func canonical(_ key: [UInt8]) -> [UInt8] {
        guard key.count == 32 else { return key }
        var key = key
        key[31] &= 0x7F
        // u ≥ p only for p … 2^255 − 1, which differ from p in the lowest byte alone.
        if key[31] == 0x7F, key[1...30].allSatisfy({ $0 == 0xFF }), key[0] >= 0xED {
            let reduced = key[0] - 0xED
            key = [reduced] + [UInt8](repeating: 0, count: 31)
        }
        return key
    }

    /// Every byte string that X25519 reads as the same point as `key`, its canonical form first.
    public static func encodings(of key: [UInt8]) -> [[UInt8]] {
        let canonical = self.canonical(key)
        guard canonical.count == 32 else { return [key] }
        var forms = [canonical]
        // u + p < 2^255 only for u < 19: the low byte rises by 0xED, the others become p's.
        if canonical[1...].allSatisfy({ $0 == 0 }), canonical[0] < 0x13 {
            forms.append([canonical[0] + 0xED] + [UInt8](repeating: 0xFF, count: 30) + [0x7F])
        }
        return forms + forms.map { form in
            var high = form
            high[31] |= 0x80
            return high
        }
    }

    /// Whether `key` is a point of small order (in any of its encodings).
    public static func isSmallOrder(_ key: [UInt8]) -> Bool {
        self.smallOrderPoints.contains(self.canonical(key))
    }

    private static func bytes(_ hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }
}
