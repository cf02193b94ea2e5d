import CommuneProtocol
import Testing

@testable import CommuneCore

@Suite("Text policy: refused characters, NFC, look-alike names")
struct TextPolicyTests {
    static let field = "The username"

    @Test(
        "names refuse control, invisible, direction-changing, private-use and unassigned characters, naming the code point",
        arguments: [
            ("Gener\u{200B}al", "invisible or direction-changing characters (U+200B)"),
            ("\u{202E}lareneG", "invisible or direction-changing characters (U+202E)"),
            ("Al\u{202A}ice", "invisible or direction-changing characters (U+202A)"),
            ("Al\u{2066}ice\u{2069}", "invisible or direction-changing characters (U+2066)"),
            ("Al\u{200E}ice", "invisible or direction-changing characters (U+200E)"),
            ("Al\u{200F}ice", "invisible or direction-changing characters (U+200F)"),
            ("Al\u{061C}ice", "invisible or direction-changing characters (U+061C)"),
            ("Al\u{200C}ice", "invisible or direction-changing characters (U+200C)"),
            ("Al\u{200D}ice", "invisible or direction-changing characters (U+200D)"),
            ("Al\u{2060}ice", "invisible or direction-changing characters (U+2060)"),
            ("Al\u{2064}ice", "invisible or direction-changing characters (U+2064)"),
            ("\u{FEFF}Alice", "invisible or direction-changing characters (U+FEFF)"),
            ("Al\u{180E}ice", "invisible or direction-changing characters (U+180E)"),
            ("Al\u{00AD}ice", "invisible or direction-changing characters (U+00AD)"),
            ("Alice\u{E0041}", "invisible or direction-changing characters (U+E0041)"),
            ("Al\u{FE0F}ice", "invisible or direction-changing characters (U+FE0F)"),
            ("Al\u{034F}ice", "invisible or direction-changing characters (U+034F)"),
            ("\u{3164}", "blank-looking characters (U+3164)"),
            ("Al\u{115F}ice", "blank-looking characters (U+115F)"),
            ("Al\u{1160}ice", "blank-looking characters (U+1160)"),
            ("\u{FFA0}Alice", "blank-looking characters (U+FFA0)"),
            ("Alice\u{2800}", "blank-looking characters (U+2800)"),
            ("\u{2800}\u{2800}", "blank-looking characters (U+2800)"),
            ("Al\u{1D159}ice", "blank-looking characters (U+1D159)"),
            ("Z\u{336}\u{301}\u{300}\u{302}\u{303}algo", "more than 4 combining marks on one character (U+0303)"),
            ("Za\u{489}\u{489}\u{489}\u{489}\u{489}lgo", "more than 4 combining marks on one character (U+0489)"),
            ("Al\u{0}ice", "control characters (U+0000)"),
            ("Al\u{7}ice", "control characters (U+0007)"),
            ("Al\u{1B}[31mice", "control characters (U+001B)"),
            ("Al\u{9}ice", "control characters (U+0009)"),
            ("Al\nice", "control characters (U+000A)"),
            ("Al\u{85}ice", "control characters (U+0085)"),
            ("Al\u{9B}ice", "control characters (U+009B)"),
            ("Al\u{2028}ice", "control characters (U+2028)"),
            ("Al\u{E000}ice", "private-use or unassigned characters (U+E000)"),
            ("Al\u{FFFF}ice", "private-use or unassigned characters (U+FFFF)"),
            ("Al\u{10FFFD}ice", "private-use or unassigned characters (U+10FFFD)"),
        ]
    )
    func refused(name: String, refusal: String) {
        #expect(throws: CommuneError.invalidArgument("The username must not contain \(refusal).")) {
            try TextPolicy.name(name, field: Self.field, maxLength: 32)
        }
    }

    @Test(
        "names keep letters of every script, marks and emoji sequences, trimmed and in NFC",
        arguments: [
            ("  alice  ", "alice"),
            ("Zoë", "Zoë"),
            ("Zoe\u{308}", "Zo\u{EB}"),  // NFD in, NFC stored
            ("Ελένη", "Ελένη"),
            ("Дмитрий", "Дмитрий"),
            ("محمد", "محمد"),
            ("שלום", "שלום"),
            ("山田 太郎", "山田 太郎"),
            ("Nguyễn", "Nguyễn"),
            ("dev 👩‍💻", "dev 👩‍💻"),  // ZWJ between two emoji
            ("❤️ fan", "❤️ fan"),  // VS16 after an emoji
            ("🏳️‍🌈", "🏳️‍🌈"),  // VS16 then ZWJ
            ("👍🏽", "👍🏽"),
            ("🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}", "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}"),  // flag of Scotland
            ("1️⃣", "1️⃣"),
            ("Nguye\u{323}\u{302}n", "Nguy\u{1EC7}n"),  // two marks, composed
            ("ᾯ", "ᾯ"),  // Ω with three marks
            ("སྒྲོ", "སྒྲོ"),  // a Tibetan stack: three marks
            ("q\u{336}\u{301}\u{300}\u{302}", "q\u{336}\u{301}\u{300}\u{302}"),  // four marks on one character
            ("q\u{301}\u{302}\u{303}q\u{301}\u{302}\u{303}", "q\u{301}\u{302}\u{303}q\u{301}\u{302}\u{303}"),  // three on each
            ("⠁⠃⠉", "⠁⠃⠉"),  // braille that shows dots
        ]
    )
    func accepted(name: String, stored: String) throws {
        let result = try TextPolicy.name(name, field: Self.field, maxLength: 32)
        #expect(Array(result.unicodeScalars) == Array(stored.unicodeScalars))
    }

    @Test("emoji joiners only inside emoji: a ZWJ at the end, after a letter or before a letter is refused")
    func joinersOutsideEmoji() {
        for name in ["👍\u{200D}", "a\u{200D}👍", "👍\u{200D}a", "x\u{FE0F}"] {
            #expect(throws: CommuneError.self) { try TextPolicy.name(name, field: Self.field, maxLength: 32) }
        }
    }

    @Test("empty and over-long names; length counts code points after NFC")
    func lengths() throws {
        #expect(throws: CommuneError.invalidArgument("data.name must not be empty.")) {
            try TextPolicy.name(" \u{3000} ", field: "data.name", maxLength: 4)
        }
        #expect(throws: CommuneError.invalidArgument("data.name must be at most 4 characters.")) {
            try TextPolicy.name("abcde", field: "data.name", maxLength: 4)
        }
        #expect(try TextPolicy.name("e\u{301}e\u{301}e\u{301}e\u{301}", field: "data.name", maxLength: 4) == "éééé")
    }

    @Test("short lines (status, topic, reason) may be empty and follow the name rules")
    func lines() throws {
        #expect(try TextPolicy.line("  ", field: "data.payload.topic") == "")
        #expect(throws: CommuneError.invalidArgument("data.payload.topic must not contain invisible or direction-changing characters (U+202E).")) {
            try TextPolicy.line("see \u{202E}gnp.exe", field: "data.payload.topic")
        }
    }

    @Test("free text (the description): line breaks and tabs pass, trimmed and in NFC; the name rules otherwise")
    func freeText() throws {
        #expect(try TextPolicy.text("  Welcome!\n\n\tRules:\r\n1. Be kind. Caf\u{65}\u{301}  ", field: "data.payload.description") == "Welcome!\n\n\tRules:\r\n1. Be kind. Caf\u{E9}")
        #expect(try TextPolicy.text("", field: "data.payload.description") == "")
        for (text, refusal) in [
            ("Hello \u{202E}dlrow", "invisible or direction-changing characters (U+202E)"),
            ("Hello\u{2067} world", "invisible or direction-changing characters (U+2067)"),
            ("bell\u{7}", "control characters (U+0007)"),
            ("\u{1B}[31mred", "control characters (U+001B)"),
            ("line\u{2028}line", "control characters (U+2028)"),
            ("\u{2800}", "blank-looking characters (U+2800)"),
            ("Z\u{336}\u{301}\u{300}\u{302}\u{303}", "more than 4 combining marks on one character (U+0303)"),
        ] {
            #expect(throws: CommuneError.invalidArgument("data.payload.description must not contain \(refusal).")) {
                try TextPolicy.text(text, field: "data.payload.description")
            }
        }
    }

    @Test(
        "messages: TAB, LF, CR and direction marks pass; other C0/C1 controls are refused",
        arguments: [
            "line 1\nline 2", "a\tb\r\n", "שלום \u{200F}world", "👩‍💻", "x\u{200B}y", "⠀⠁⠀⠂", "Z\u{336}\u{301}\u{300}\u{302}algo",
            "e\u{301}\u{302}\u{303}\u{304}\n\u{301}",
        ]
    )
    func messagesAccepted(text: String) throws {
        try TextChannelCodec.validate(message: text, limit: 100)
    }

    @Test(
        "messages refuse NUL, BEL, ESC, DEL and C1 controls, and messages with nothing visible",
        arguments: [
            ("a\u{0}b", "data.payload.message must not contain control characters (U+0000)."),
            ("ding\u{7}", "data.payload.message must not contain control characters (U+0007)."),
            ("\u{1B}[2J", "data.payload.message must not contain control characters (U+001B)."),
            ("a\u{7F}", "data.payload.message must not contain control characters (U+007F)."),
            ("a\u{9B}b", "data.payload.message must not contain control characters (U+009B)."),
            ("\u{200B}", "data.payload.message must not be made only of white space and invisible or direction-changing characters (U+200B)."),
            (" \u{2060}\u{FEFF} \n", "data.payload.message must not be made only of white space and invisible or direction-changing characters (U+2060)."),
            ("\u{202E}\u{3164}", "data.payload.message must not be made only of white space and invisible or direction-changing characters (U+202E)."),
            ("\u{2800}\u{2800}\n\u{2800}", "data.payload.message must not be made only of white space and blank-looking characters (U+2800)."),
            (" \u{3164}\u{200B}", "data.payload.message must not be made only of white space and blank-looking characters (U+3164)."),
            ("\u{FFA0}\u{115F}\u{1160}", "data.payload.message must not be made only of white space and blank-looking characters (U+FFA0)."),
            ("Z\u{336}\u{301}\u{300}\u{302}\u{303}\u{304}algo", "data.payload.message must not contain more than 4 combining marks on one character (U+0303)."),
            ("ok \u{20DD}\u{20DD}\u{20DD}\u{20DD}\u{20DD}", "data.payload.message must not contain more than 4 combining marks on one character (U+20DD)."),
            (" \n\t", "data.payload.message must not be empty."),
        ]
    )
    func messagesRefused(text: String, message: String) {
        #expect(throws: CommuneError.invalidArgument(message)) { try TextChannelCodec.validate(message: text, limit: 100) }
    }

    @Test("messages: each of the 128 ASCII characters, alone and after a letter, is judged as its Unicode properties say")
    func messagesASCII() {
        for value in UInt32(0)..<0x80 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let properties = scalar.properties
            let allowedControl = scalar == "\t" || scalar == "\n" || scalar == "\r"
            let refused = properties.generalCategory == .control && !allowedControl
            let control = "data.payload.message must not contain control characters (U+00\(value < 0x10 ? "0" : "")\(String(value, radix: 16, uppercase: true)))."
            for text in [String(scalar), "a" + String(scalar)] {
                if refused {
                    #expect(throws: CommuneError.invalidArgument(control), "\(value)") { try TextChannelCodec.validate(message: text, limit: 10) }
                } else if text.count == 1, properties.isWhitespace || allowedControl {
                    #expect(throws: CommuneError.invalidArgument("data.payload.message must not be empty."), "\(value)") {
                        try TextChannelCodec.validate(message: text, limit: 10)
                    }
                } else {
                    #expect(throws: Never.self, "\(value)") { try TextChannelCodec.validate(message: text, limit: 10) }
                }
            }
        }
    }

    @Test("skeleton: ASCII text takes a table, with the same result as the full mapping")
    func asciiSkeleton() {
        // Every ASCII character alone and after every other (pairs catch mappings such as "rn" looking like "m").
        let characters = (0..<128).map { String(UnicodeScalar(UInt8($0))) }
        for first in characters {
            #expect(TextPolicy.skeleton(first) == TextPolicy.unicodeSkeleton(first), "\(first.debugDescription)")
            for second in characters {
                let text = first + second
                #expect(TextPolicy.skeleton(text) == TextPolicy.unicodeSkeleton(text))
            }
        }
        #expect(TextPolicy.asciiSkeleton("paypa1") != nil)
        #expect(TextPolicy.asciiSkeleton("Аlice") == nil)  // Cyrillic А: the full mapping
        #expect(TextPolicy.skeleton("Аlice") == TextPolicy.skeleton("Alice"))
    }

    @Test("RandomToken: the asked length, URL-safe base64 characters, never the same twice")
    func randomTokens() {
        var seen = Set<String>()
        for length in [0, 1, 9, 10, 11, 24, 43, 100] {
            for _ in 0..<200 {
                let token = RandomToken.make(length: length)
                #expect(token.utf8.count == length)
                #expect(RandomToken.isWellFormed(token, length: length))
                if length >= 22 { #expect(seen.insert(token).inserted) }
            }
        }
        // All 64 characters come up (a bias towards a few would shrink the token's strength).
        let characters = Set((0..<200).flatMap { _ in RandomToken.make(length: 43) })
        #expect(characters.count == 64)
        #expect(!RandomToken.isWellFormed("abc+", length: 4))
        #expect(!RandomToken.isWellFormed("abcé", length: 4))
        #expect(!RandomToken.isWellFormed("abc", length: 4))
    }

    @Test("skeleton: the UTS #39 mapping, case kept")
    func skeleton() {
        #expect(TextPolicy.skeleton("Аlice") == TextPolicy.skeleton("Alice"))  // Cyrillic А
        #expect(TextPolicy.skeleton("Gеnеrаl") == TextPolicy.skeleton("General"))  // Cyrillic е, а
        #expect(TextPolicy.skeleton("Ꭺlice") == TextPolicy.skeleton("Alice"))  // Cherokee
        #expect(TextPolicy.skeleton("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ") == TextPolicy.skeleton("ABEZHlKMNOPTYX"))  // Greek capitals; I → l
        #expect(TextPolicy.skeleton("Ａｌｉｃｅ") == TextPolicy.skeleton("Alice"))  // fullwidth
        #expect(TextPolicy.skeleton("𝐀𝐥𝐢𝐜𝐞") == TextPolicy.skeleton("Alice"))  // mathematical bold
        #expect(TextPolicy.skeleton("paypa1") == TextPolicy.skeleton("paypal"))
        #expect(TextPolicy.skeleton("rn") == TextPolicy.skeleton("m"))
        #expect(TextPolicy.skeleton("Gener\u{200B}al") == TextPolicy.skeleton("General"))  // default ignorables dropped
        #expect(TextPolicy.skeleton("Alice") != TextPolicy.skeleton("alice"))
        #expect(TextPolicy.skeleton("Alice") != TextPolicy.skeleton("Alicia"))
        #expect(Confusables.unicodeVersion == "13.0.0")
        #expect(Confusables.prototypes.count == 5_247)
    }

    @Test(
        "look-alike names: skeletons compared as written and case-folded",
        arguments: [
            ("Alice", "Аlice", true),  // Cyrillic А
            ("Alice", "Αlice", true),  // Greek Α
            ("alice", "аlісе", true),  // Cyrillic а, і, с, е
            ("Alice", "alice", true),
            ("Alice", "ALICE", true),
            ("Alice", "AIice", true),  // capital I for l
            ("Alice", "Ａｌｉｃｅ", true),
            ("Alice", "A l i c e", false),
            ("Alice", "Al  ice", false),
            ("Al ice", "Al  ice", true),  // white space runs count as one
            ("General", "Gеneral", true),
            ("General", "general", true),
            ("moderator", "mоderator", true),
            ("owner", "0wner", true),
            ("bob", "bob1", false),
            ("bobl", "bob1", true),
            ("Alice", "Alicia", false),
            ("Zoë", "Zoe\u{308}", true),
            ("Zoë", "Zoe", false),
            ("Ελένη", "Ελενη", false),
        ]
    )
    func lookalikes(first: String, second: String, confusable: Bool) {
        #expect(TextPolicy.areConfusable(first, second) == confusable)
        #expect(TextPolicy.areConfusable(second, first) == confusable)
    }

    @Test("the roster finds a look-alike of any member but the one excluded, and follows renames and removals")
    func roster() {
        let alice = Member(id: .random(), username: "Alice", publicKey: [1], group: "member", joinedAt: 1)
        let bob = Member(id: .random(), username: "bob", publicKey: [2], group: "member", joinedAt: 1)
        var roster = MemberRoster([alice, bob])
        #expect(roster.member(lookingLike: "Аlice", excluding: nil)?.id == alice.id)
        #expect(roster.member(lookingLike: "ALICE", excluding: alice.id) == nil)
        #expect(roster.member(lookingLike: "carol", excluding: nil) == nil)
        var renamed = alice
        renamed.username = "carol"
        roster[alice.id] = renamed
        #expect(roster.member(lookingLike: "Alice", excluding: nil) == nil)
        #expect(roster.member(lookingLike: "CAROL", excluding: nil)?.id == alice.id)
        roster[bob.id] = nil
        #expect(roster.member(lookingLike: "b0b", excluding: nil) == nil)
        #expect(roster.count == 1)
    }

    @Test("a reserved name holds off its look-alikes until it is released; a member's name holds them off too")
    func reservations() {
        let bob = Member(id: .random(), username: "bob", publicKey: [2], group: "member", joinedAt: 1)
        var roster = MemberRoster([bob])
        #expect(roster.reserve("alice", excluding: nil) == nil)
        #expect(roster.reserve("аlice", excluding: nil) == "alice")  // Cyrillic а
        #expect(roster.reserve("ALICE", excluding: nil) == "alice")
        #expect(roster.reserve("b0b", excluding: nil) == "bob")
        #expect(roster.reserve("BOB", excluding: bob.id) == nil)  // bob renaming himself
        roster.release("BOB")
        roster.release("аlice")  // not reserved: releases nothing
        #expect(roster.reserve("Alice", excluding: nil) == "alice")
        roster.release("alice")
        #expect(roster.reserve("аlice", excluding: nil) == nil)
        roster.release("аlice")
    }

    @Test("siblings: a look-alike of another child is found, the node itself is not")
    func siblings() {
        let tree = InteractableTree([
            Interactable(id: 1, parentID: nil, name: "General", codec: "category", position: 0),
            Interactable(id: 2, parentID: 1, name: "General", codec: "text", position: 0),
            Interactable(id: 3, parentID: 1, name: "VC-1", codec: "voice", position: 1),
        ])
        #expect(tree.sibling(lookingLike: "Gеneral", under: 1)?.id == 2)
        #expect(tree.sibling(lookingLike: "general", under: 1, excluding: 2) == nil)
        #expect(tree.sibling(lookingLike: "VC-l", under: 1)?.id == 3)
        #expect(tree.sibling(lookingLike: "Gеneral", under: nil)?.id == 1)
        #expect(tree.sibling(lookingLike: "Rules", under: 1) == nil)
    }
}
