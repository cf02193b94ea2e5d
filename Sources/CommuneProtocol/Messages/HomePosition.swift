/// Where an entry stands in a member's home: 1 to 3 dot-separated decimal numbers, each 0…999,999 with no leading
/// zero (`"3"`, `"3.1"`, `"3.1.2"`). Clients build folders from it: entries sharing the first number and having two or
/// more numbers are in folder x, ordered by the rest. Ordered number by number, a shorter position before the longer
/// ones it begins (`3` < `3.0` < `3.1` < `10`).
public struct HomePosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The numbers, 1 to 3 of them.
    public let components: [Int]

    /// The most numbers a position has.
    public static let maxDepth = 3
    /// The largest number in a position.
    public static let maxComponent = 999_999

    /// Reads `text` exactly in the grammar `^(0|[1-9][0-9]{0,5})(\.(0|[1-9][0-9]{0,5})){0,2}$`; anything else is `nil`.
    public init?(_ text: String) {
        var components: [Int] = []
        for part in text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard components.count < Self.maxDepth, (1...6).contains(part.count),
                part.count == 1 || part.first != UInt8(ascii: "0")
            else { return nil }
            var value = 0
            for byte in part {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            components.append(value)
        }
        self.components = components
    }

    /// The position of these numbers. - Precondition: 1 to 3 numbers, each 0…999,999.
    public init(_ components: [Int]) {
        precondition((1...Self.maxDepth).contains(components.count) && components.allSatisfy { (0...Self.maxComponent).contains($0) })
        self.components = components
    }

    /// The wire form, `"3.1"`.
    public var description: String { self.components.map(String.init).joined(separator: ".") }

    public static func < (lhs: HomePosition, rhs: HomePosition) -> Bool {
        lhs.components.lexicographicallyPrecedes(rhs.components)
    }
}
