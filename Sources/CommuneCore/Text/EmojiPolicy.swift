import CommuneProtocol

/// Which strings a reaction may be: one emoji as people pick it from an emoji keyboard — a single emoji, with a skin
/// tone, a keycap, a flag, or a ZWJ sequence (👩‍💻, 👨‍👩‍👧) — and nothing else: no text, no invisible or
/// direction-changing characters, no emoji shown as text.
public enum EmojiPolicy {
    /// The longest reaction in UTF-8 bytes (the longest standard ZWJ sequences take about 35).
    public static let maxBytes = 40
    /// The most Unicode scalars a reaction may hold.
    public static let maxScalars = 12

    /// Throws `invalid_argument` naming `field` unless `emoji` is one emoji (one grapheme cluster of emoji scalars,
    /// shown as an emoji) of at most ``maxBytes`` bytes.
    public static func check(_ emoji: String, field: String) throws(CommuneError) {
        guard !emoji.isEmpty else { throw .invalidArgument("\(field) must be an emoji, not empty.") }
        guard emoji.utf8.count <= Self.maxBytes, emoji.unicodeScalars.count <= Self.maxScalars else {
            throw .invalidArgument("\(field) must be one emoji of at most \(Self.maxBytes) bytes.")
        }
        guard emoji.count == 1, Self.isEmoji(Array(emoji.unicodeScalars)) else {
            throw .invalidArgument("\(field) must be one emoji (such as 👍 or 🎉), not text.")
        }
    }

    /// Whether the scalars of one grapheme cluster form an emoji shown as an emoji.
    static func isEmoji(_ scalars: [Unicode.Scalar]) -> Bool {
        var presented = false
        var regionalIndicators = 0
        for (index, scalar) in scalars.enumerated() {
            let first = index == 0
            switch scalar.value {
            case 0x200D:
                // Zero width joiner: only between two emoji.
                guard !first, index < scalars.count - 1, scalars[index + 1].value != 0x200D else { return false }
            case 0xFE0F, 0x20E3:
                // Emoji presentation selector, combining keycap: after a base.
                guard !first else { return false }
                presented = true
            case 0xE0020...0xE007F:
                // Tags of a subdivision flag (🏴 + tags + cancel tag).
                guard !first else { return false }
            case 0x1F1E6...0x1F1FF:
                regionalIndicators += 1
                presented = true
            default:
                let properties = scalar.properties
                guard properties.isEmoji, !(first && properties.isEmojiModifier) else { return false }
                if properties.isEmojiPresentation { presented = true }
            }
        }
        // A flag is exactly two regional indicators.
        guard regionalIndicators == 0 || (regionalIndicators == 2 && scalars.count == 2) else { return false }
        return presented
    }
}
