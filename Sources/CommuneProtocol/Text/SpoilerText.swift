/// A message's `||spoilers||` (PROTOCOL.md, "Message text") hidden in plain text: what the CLI prints (each as
/// `||…||`, so that the terminal and its scrollback show no more than the web client before a click) and what a search
/// result's snippet shows (each as ``placeholder``). The rule is the web client's: content of 1 to 1,000 characters
/// that starts and ends with something other than white space or `|`; the first closing `||` ends it; an unclosed
/// `||` is text.
public enum SpoilerText {
    static let maxLength = 1000

    /// What a spoiler shows as where nothing can be clicked to reveal it: search snippets (and the web client's
    /// desktop notifications).
    public static let placeholder = "▒▒▒"

    /// `text` with each spoiler (markers included) replaced by `replacement`.
    public static func hidden(_ text: String, as replacement: String = "||…||") -> String {
        let chars = Array(text)
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var i = 0
        while i < chars.count {
            if let end = Self.closing(chars, openingAt: i) {
                result += replacement
                i = end + 2
            } else {
                result.append(chars[i])
                i += 1
            }
        }
        return result
    }

    /// Where the `||` closing a spoiler opened at i starts, or nil when none opens there.
    private static func closing(_ chars: [Character], openingAt i: Int) -> Int? {
        let first = i + 2
        guard first < chars.count, chars[i] == "|", chars[i + 1] == "|", Self.edge(chars[first]) else { return nil }
        var j = first + 1
        while j + 1 < chars.count && j - first <= Self.maxLength {
            if chars[j] == "|" && chars[j + 1] == "|" && Self.edge(chars[j - 1]) { return j }
            j += 1
        }
        return nil
    }

    private static func edge(_ c: Character) -> Bool { !c.isWhitespace && c != "|" }
}
