/// Unguessable identifiers: invite codes, HTTP session tokens, attachment ids.
public enum RandomToken {
    /// URL-safe base64's alphabet, as bytes.
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// `length` characters of URL-safe base64's alphabet from the system's secure generator (6 bits each).
    ///
    /// Each 64-bit draw gives ten characters, so a 43-character session token costs five draws (each draw is a
    /// `getrandom` call on Linux), not one per character.
    public static func make(length: Int) -> String {
        precondition(length >= 0, "a token cannot have a negative length")
        var generator = SystemRandomNumberGenerator()
        return String(unsafeUninitializedCapacity: length) { buffer in
            var bits: UInt64 = 0
            for index in 0..<length {
                if index % 10 == 0 { bits = generator.next() }
                buffer[index] = Self.alphabet[Int(bits & 63)]
                bits >>= 6
            }
            return length
        }
    }

    /// Whether `text` could be a token of `length` characters (checked before any lookup or file access).
    public static func isWellFormed(_ text: String, length: Int) -> Bool {
        text.utf8.count == length && text.utf8.allSatisfy { Self.alphabet.contains($0) }
    }
}
