import CommuneCore
import CommuneProtocol
import Testing

@Suite("Search queries")
struct SearchQueryTests {
    func refusal(_ text: String) -> CommuneError? {
        do {
            _ = try SearchQuery(text)
            return nil
        } catch {
            return error
        }
    }

    @Test("a query is words: separators and operators are not words, repeats count once")
    func words() throws {
        #expect(try SearchQuery("  hello, \"world\" NEAR(x* y:z) hello ").words == ["hello", "world", "NEAR", "x", "y", "z"])
        #expect(try SearchQuery("Grüße 日本語 x²").words == ["Grüße", "日本語", "x²"])
        #expect(try SearchQuery("\"a\" \"b\"").fts5Query == "\"a\" \"b\"")
    }

    @Test("too long, too many words, or no word at all: invalid_argument")
    func refusals() {
        #expect(self.refusal(String(repeating: "a", count: 100_000))?.code == .invalidArgument)
        #expect(self.refusal(String(repeating: "é", count: SearchQuery.maxLength + 1))?.code == .invalidArgument)
        #expect(self.refusal(String(repeating: "ab ", count: 1)) == nil)
        #expect(self.refusal((1...17).map { "w\($0)" }.joined(separator: " "))?.code == .invalidArgument)
        for empty in ["", "   ", "\"*\" :() ^", "\u{202E}\u{200B}", "🙂🙂"] {
            #expect(self.refusal(empty)?.code == .invalidArgument, "\(empty.debugDescription)")
        }
    }

    @Test("the snippet is one line around the first word found, cut with an ellipsis")
    func snippet() throws {
        let query = try SearchQuery("needle")
        let long = String(repeating: "hay ", count: 100) + "the NEEDLE\nis here " + String(repeating: "straw ", count: 100)
        let snippet = query.snippet(of: long, length: 60)
        #expect(snippet.hasPrefix("…") && snippet.hasSuffix("…"))
        #expect(snippet.contains("the NEEDLE is here"))
        #expect(!snippet.contains("\n"))
        #expect(query.snippet(of: "short needle") == "short needle")
        #expect(try SearchQuery("other").snippet(of: "no match here, start shown", length: 10) == "no match h…")
        // Spoilers are hidden before the cut; an unclosed `||` is text.
        #expect(query.snippet(of: "||a needle|| and a needle") == "▒▒▒ and a needle")
        #expect(query.snippet(of: "|| not one|| needle ||open") == "|| not one|| needle ||open")
    }
}
