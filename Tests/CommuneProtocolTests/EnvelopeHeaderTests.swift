import Testing

@testable import CommuneProtocol

/// The id and type of a frame that is not a readable envelope, so that its error can still answer it.
@Suite("Envelope header of unreadable frames")
struct EnvelopeHeaderTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var text: String
        var id: String?
        var type: MessageType?
        var testDescription: String { String(self.text.prefix(60)) }
    }

    static let cases: [Case] = [
        Case(text: #"{"type":"function","id":"f1","data":"x"}"#, id: "f1", type: .function),
        Case(text: #"{"data":[1,{"id":"inner"}],"id":"outer","type":"ping"}"#, id: "outer", type: .ping),
        Case(text: #" { "id" : 42 , "type" : "register" , "data" : 7 }"#, id: "42", type: .register),
        Case(text: #"{"id":"\u0061b\"c","type":"function"}"#, id: "ab\"c", type: .function),
        Case(text: #"{"type":"ping","id":"cut","data":{"never":"ends"#, id: "cut", type: .ping),
        Case(text: #"{"type":"function","data":{"deep":[[[[["]"]]]]],"x":"}"},"id":"after"}"#, id: "after", type: .function),
        Case(text: #"{"type":"function","id":{"no":"object ids"}}"#, id: nil, type: .function),
        Case(text: #"{"type":"function","id":1.5}"#, id: nil, type: .function),
        Case(text: #"{"type":"function","id":""# + String(repeating: "x", count: 129) + #""}"#, id: nil, type: .function),
        Case(text: #"{"type":3,"id":"t"}"#, id: "t", type: nil),
        Case(text: "[1,2]", id: nil, type: nil),
        Case(text: "not json", id: nil, type: nil),
        Case(text: #"{"type" "function","id":"x"}"#, id: nil, type: nil),
        Case(text: "", id: nil, type: nil),
    ]

    @Test(arguments: Self.cases)
    func header(_ test: Case) {
        let header = EnvelopeHeader(scanning: test.text)
        #expect(header.id == test.id)
        #expect(header.type == test.type)
        #expect(EnvelopeHeader(scanning: Array(test.text.utf8)) == header)
    }

    @Test("an id after a megabyte of data is still found, in linear time")
    func largeFrame() {
        let data = "[" + Array(repeating: #"{"a":["b",{"c":"\"}"}]}"#, count: 45_000).joined(separator: ",") + "]"
        let text = #"{"type":"function","data":"# + data + #","id":"late"}"#
        #expect(text.utf8.count > 1_000_000)
        let clock = ContinuousClock()
        var header = EnvelopeHeader()
        let elapsed = clock.measure { header = EnvelopeHeader(scanning: text) }
        #expect(header == EnvelopeHeader(id: "late", type: .function))
        #expect(elapsed < .seconds(2))
    }
}
