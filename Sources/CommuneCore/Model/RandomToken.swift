/// Unguessable identifiers: invite codes, HTTP session tokens, attachment ids.
public enum RandomToken {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    /// `length` characters of URL-safe base64's alphabet from the system's secure generator (6 bits each).
    public static func make(length: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in Self.alphabet[Int.random(in: 0..<64, using: &generator)] })
    }

    /// Whether `text` could be a token of `length` characters (checked before any lookup or file access).
    public static func isWellFormed(_ text: String, length: Int) -> Bool {
        text.utf8.count == length && text.allSatisfy { Self.alphabet.contains($0) }
    }
}
