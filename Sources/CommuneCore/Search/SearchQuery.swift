import CommuneProtocol
import Foundation

/// A member's search text read as words, never as query syntax.
///
/// Anything that is not a letter, digit or combining mark separates words, so `"`, `*`, `:`, `(`, `-`, `^` are
/// never operators and `NEAR`, `AND`, `OR`, `NOT` are plain words: every word must appear in a message, in any
/// order, as a whole word, case and accents aside (`Café` finds `cafe`). The same reading runs in every store
/// (SQLite's FTS5 gets each word as a quoted string; the in-memory store compares ``foldedWords(in:)``) and in the
/// snippet.
public struct SearchQuery: Sendable, Hashable {
    /// The most Unicode code points a query may have (longer: `invalid_argument`).
    public static let maxLength = 256
    /// The most words a query may have (more: `invalid_argument`).
    public static let maxWords = 16

    /// The query's words as written, in order, without repeats.
    public let words: [String]

    /// Reads `text` (the payload field `field`), refusing with `invalid_argument` one that is too long, has too many
    /// words, or has no word at all.
    public init(_ text: String, field: String = "data.payload.query") throws(CommuneError) {
        // Counted on UTF-8 bytes first so that a 100 KB query costs no more than that.
        if text.utf8.count > Self.maxLength * 4 || text.unicodeScalars.count > Self.maxLength {
            throw .invalidArgument("\(field) is too long: a search has at most \(Self.maxLength) characters.")
        }
        var words: [String] = []
        var seen: Set<String> = []
        for word in Self.tokens(in: text) {
            let folded = Self.fold(word)
            guard seen.insert(folded).inserted else { continue }
            words.append(word)
        }
        guard !words.isEmpty else {
            throw .invalidArgument("\(field) has no word to search for: write at least one word of letters or digits.")
        }
        guard words.count <= Self.maxWords else {
            throw .invalidArgument("\(field) has \(words.count) words; a search has at most \(Self.maxWords).")
        }
        self.words = words
    }

    /// The words folded as every store compares them (case and accents aside).
    public var foldedWords: Set<String> { Set(self.words.map(Self.fold)) }

    /// The runs of letters, digits and marks in `text`, in order.
    public static func tokens(in text: String) -> [String] {
        self.tokenRanges(in: text).map { String(text[$0]) }
    }

    /// Each word of `text` folded (case and accents aside): what a message is searched by.
    public static func foldedWords(in text: String) -> Set<String> {
        Set(self.tokens(in: text).map(Self.fold))
    }

    static func fold(_ word: String) -> String {
        word.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
    }

    static func isWordCharacter(_ character: Character) -> Bool {
        guard let scalar = character.unicodeScalars.first else { return false }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .decimalNumber, .letterNumber,
            .otherNumber, .nonspacingMark, .spacingMark, .enclosingMark:
            return true
        default:
            return false
        }
    }

    static func tokenRanges(in text: String) -> [Range<String.Index>] {
        var ranges: [Range<String.Index>] = []
        var start: String.Index?
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(after: index)
            if Self.isWordCharacter(text[index]) {
                if start == nil { start = index }
            } else if let begun = start {
                ranges.append(begun..<index)
                start = nil
            }
            index = next
        }
        if let begun = start { ranges.append(begun..<text.endIndex) }
        return ranges
    }

    /// Whether `text` holds every word of this query (the in-memory store's match; FTS5 does the same for SQLite).
    public func matches(_ text: String) -> Bool {
        self.foldedWords.isSubset(of: Self.foldedWords(in: text))
    }

    /// A single line of at most about `length` characters of `text` around the first word of this query it holds,
    /// with `…` where it was cut: what a result shows. Spoilers stay hidden: each is ``SpoilerText/placeholder``
    /// before the cut (a word found only inside one shows the start of the message).
    public func snippet(of text: String, length: Int = 160) -> String {
        let text = SpoilerText.hidden(text, as: SpoilerText.placeholder)
        let wanted = self.foldedWords
        let ranges = Self.tokenRanges(in: text)
        let hit = ranges.first { wanted.contains(Self.fold(String(text[$0]))) }
        let characters = Array(text)
        var offset = 0
        if let hit { offset = text.distance(from: text.startIndex, to: hit.lowerBound) }
        let lead = length / 4
        var lower = max(0, offset - lead)
        let upper = min(characters.count, lower + length)
        lower = max(0, min(lower, upper - length))
        var line = String(characters[lower..<upper]).map { $0.isNewline || $0 == "\t" ? " " : $0 }.reduce(into: "") { $0.append($1) }
        if lower > 0 { line = "…" + line }
        if upper < characters.count { line += "…" }
        return line
    }

    /// The FTS5 query for ``words``: each word a quoted string (a `"` inside doubled, though words hold none), all
    /// of them required.
    public var fts5Query: String {
        self.words.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: " ")
    }
}
