import Testing

@testable import CommuneProtocol

@Suite("JSON")
struct JSONTests {
    @Test("parses and writes back the same value")
    func roundTrip() throws {
        let text = #"{"a":[1,-2,3.5,true,false,null],"b":{"c":"d\n\"e\"\\ é 😀"},"n":12345678901234}"#
        let value = try JSONValue.parse(text)
        #expect(value["n"]?.intValue == 12_345_678_901_234)
        #expect(value["b"]?["c"]?.stringValue == "d\n\"e\"\\ é 😀")
        #expect(try JSONValue.parse(value.jsonString) == value)
    }

    @Test("decodes escapes and surrogate pairs")
    func escapes() throws {
        let value = try JSONValue.parse(#""\u00e9\ud83d\ude00\/\t""#)
        #expect(value.stringValue == "é😀/\t")
    }

    @Test("writes control characters escaped", arguments: ["\u{0}", "\u{1F}", "\u{7F}"])
    func controlCharacters(text: String) throws {
        let written = JSONValue.string(text).jsonString
        #expect(!written.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
        #expect(try JSONValue.parse(written).stringValue == text)
    }

    @Test(
        "writes strings byte for byte: escapes first, last, side by side and between runs of other text",
        arguments: [
            ("", #""""#), ("plain é 😀", #""plain é 😀""#), ("\"", #""\"""#), ("\\\"\n", #""\\\"\n""#),
            ("\u{1}a\rb\tc\u{7F}", #""\u0001a\rb\tc\u007f""#), ("\u{202E}x\"y\\", #""\#u{202E}x\"y\\""#),
        ]
    )
    func writesStrings(text: String, json: String) {
        #expect(JSONValue.string(text).jsonString == json)
    }

    @Test(
        "rejects malformed text",
        arguments: ["", "{", "{\"a\":}", "[1,]", "{\"a\":1}x", "tru", "\"\\q\"", "\"\\ud800\"", "01", "1.", "{'a':1}", "\"a\nb\""]
    )
    func rejects(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test("limits nesting depth")
    func depth() throws {
        let deep = String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
        let fine = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        #expect(try JSONValue.parse(fine) != .null)
    }
}
