import CommuneProtocol
import Foundation

/// What text the community stores: the one place that decides which characters a name, a short line (status, topic,
/// ban reason) or a message may hold, how names are normalised, and when two names look alike.
///
/// - Names and short lines refuse **control characters** (general category Cc, and the line and paragraph separators
///   U+2028/U+2029), **invisible or direction-changing characters** (category Cf — the bidi embeddings, overrides and
///   isolates U+202A–202E and U+2066–2069, the marks U+200E/U+200F/U+061C, zero-width U+200B–200D, U+2060–2064,
///   U+FEFF, U+180E, the tag characters U+E0000–E007F, soft hyphen … — and every other Default_Ignorable_Code_Point
///   such as variation selectors and the combining grapheme joiner), and **private-use or
///   unassigned characters** (Co, Cn, noncharacters). The exceptions are emoji sequences: a zero-width joiner
///   between two parts of one emoji (👩‍💻), a variation selector U+FE0E/U+FE0F right after an emoji (❤️), and tag
///   characters inside a flag that starts with U+1F3F4 (🏴󠁧󠁢󠁳󠁣󠁴󠁿). They also refuse **blank-looking characters**,
///   which show as nothing though Unicode counts them as symbols or letters (U+2800 BRAILLE PATTERN BLANK, U+1D159
///   MUSICAL SYMBOL NULL NOTEHEAD, and the Hangul fillers U+115F, U+1160, U+3164, U+FFA0). They are trimmed of white
///   space and stored in NFC.
/// - Free text over several lines (the community's description) follows the rules of names, with TAB, LF and CR
///   allowed.
/// - Messages refuse C0 and C1 control characters other than TAB, LF and CR, and must show something: a message of
///   only white space, invisible and blank-looking characters is refused. Direction marks stay allowed in messages
///   (right-to-left writers need them; clients isolate each message).
/// - Names, lines, free text and messages refuse more than ``maxStackedMarks`` combining marks (general categories
///   Mn and Me) in a row on one character ("zalgo" text, which spills over the lines around it).
/// - Two names look alike when their UTS #39 skeletons match, compared both as written and case-folded
///   (`Alice`, `alice`, `ALICE`, `Аlice` with a Cyrillic А, `AIice` with a capital I and `Ａｌｉｃｅ` are one name).
public enum TextPolicy {
    /// Why a character is refused; the error message names the class and the code point.
    public enum Refusal: Sendable, Equatable {
        case control(Unicode.Scalar)
        case invisible(Unicode.Scalar)
        case unassigned(Unicode.Scalar)
        case blank(Unicode.Scalar)
        /// The combining mark that is one too many on its character.
        case stackedMarks(Unicode.Scalar)

        public var scalar: Unicode.Scalar {
            switch self {
            case .control(let scalar), .invisible(let scalar), .unassigned(let scalar), .blank(let scalar), .stackedMarks(let scalar): scalar
            }
        }

        /// "control characters (U+0007)" and the like, for "… must not contain …".
        public var description: String {
            let code = "U+" + String(self.scalar.value, radix: 16, uppercase: true).leftPadded(to: 4)
            switch self {
            case .control: return "control characters (\(code))"
            case .invisible: return "invisible or direction-changing characters (\(code))"
            case .unassigned: return "private-use or unassigned characters (\(code))"
            case .blank: return "blank-looking characters (\(code))"
            case .stackedMarks: return "more than \(TextPolicy.maxStackedMarks) combining marks on one character (\(code))"
            }
        }
    }

    /// The most combining marks one character may carry: enough for Vietnamese, polytonic Greek, pointed Hebrew
    /// and Tibetan stacks.
    public static let maxStackedMarks = 4

    /// Characters that show as nothing, though Unicode counts them as symbols or letters rather than white space
    /// (the Hangul fillers are also Default_Ignorable_Code_Point): a name made of them looks empty, and one beside a
    /// name looks like that name.
    public static func isBlank(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x2800, 0x115F, 0x1160, 0x3164, 0xFFA0, 0x1D159: true
        default: false
        }
    }

    /// Whether a character of `category` is a combining mark that stacks on the character before it (Mn or Me).
    static func isStackingMark(_ category: Unicode.GeneralCategory) -> Bool {
        category == .nonspacingMark || category == .enclosingMark
    }

    // MARK: Names and short lines

    /// A name (member, channel, category, group, community): trimmed, 1 to `maxLength` code points after NFC, no
    /// refused character. `field` starts the error message ("The username", "data.name").
    public static func name(_ raw: String, field: String, maxLength: Int) throws(CommuneError) -> String {
        let name = try self.line(raw, field: field)
        guard !name.isEmpty else { throw .invalidArgument("\(field) must not be empty.") }
        guard name.unicodeScalars.count <= maxLength else { throw .invalidArgument("\(field) must be at most \(maxLength) characters.") }
        return name
    }

    /// A short line of text (status text, topic, ban reason): trimmed, in NFC, no refused character (but TAB, LF and
    /// CR with `allowingLineBreaks`); may be empty. The caller checks its length.
    public static func line(_ raw: String, field: String, allowingLineBreaks: Bool = false) throws(CommuneError) -> String {
        let trimmed = raw.trimmingWhitespaceAndNewlines()
        if let refusal = self.firstRefusal(inName: trimmed, allowingLineBreaks: allowingLineBreaks) {
            throw .invalidArgument("\(field) must not contain \(refusal.description).")
        }
        return trimmed.precomposedStringWithCanonicalMapping
    }

    /// Free text over several lines (the community's description): the rules of a short line, with TAB, LF and CR
    /// allowed; trimmed, in NFC, may be empty. The caller checks its length.
    public static func text(_ raw: String, field: String) throws(CommuneError) -> String {
        try self.line(raw, field: field, allowingLineBreaks: true)
    }

    /// The first character a name or short line (with `allowingLineBreaks`, free text) may not hold, or `nil`.
    public static func firstRefusal(inName text: String, allowingLineBreaks: Bool = false) -> Refusal? {
        var marks = 0
        for character in text {
            let scalars = Array(character.unicodeScalars)
            for (index, scalar) in scalars.enumerated() {
                let properties = scalar.properties
                let category = properties.generalCategory
                if self.isStackingMark(category) {
                    marks += 1
                    if marks > self.maxStackedMarks { return .stackedMarks(scalar) }
                } else {
                    marks = 0
                }
                if self.isBlank(scalar) { return .blank(scalar) }
                switch category {
                case .control where allowingLineBreaks && (scalar == "\t" || scalar == "\n" || scalar == "\r"):
                    continue
                case .control, .lineSeparator, .paragraphSeparator:
                    return .control(scalar)
                case .privateUse, .unassigned, .surrogate:
                    return .unassigned(scalar)
                case .format:
                    if !self.isEmojiJoiner(at: index, in: scalars) { return .invisible(scalar) }
                default:
                    if properties.isDefaultIgnorableCodePoint, !self.isEmojiJoiner(at: index, in: scalars) {
                        return .invisible(scalar)
                    }
                }
            }
        }
        return nil
    }

    /// Whether `scalars[index]` is an invisible character that belongs to the emoji sequence it sits in: a zero-width
    /// joiner between two emoji parts, a variation selector right after an emoji, or a tag character (U+E0020–E007F)
    /// in a flag sequence that starts with U+1F3F4.
    static func isEmojiJoiner(at index: Int, in scalars: [Unicode.Scalar]) -> Bool {
        guard index > 0, let first = scalars.first, first.properties.isEmoji else { return false }
        let scalar = scalars[index]
        switch scalar.value {
        case 0x200D:
            let before = scalars[index - 1]
            return index + 1 < scalars.count && (before.properties.isEmoji || before.value == 0xFE0F) && scalars[index + 1].properties.isEmoji
        case 0xFE0E, 0xFE0F:
            return scalars[index - 1].properties.isEmoji
        case 0xE0020...0xE007F:
            return first.value == 0x1F3F4
        default:
            return false
        }
    }

    // MARK: Messages

    /// A message's text: no C0/C1 control character but TAB, LF and CR, at most ``maxStackedMarks`` combining marks
    /// on one character, and something visible (not only white space, which is "empty", nor only invisible and
    /// blank-looking characters).
    public static func checkMessage(_ text: String, field: String) throws(CommuneError) {
        var visible = false
        var invisible: Refusal?
        var marks = 0
        for scalar in text.unicodeScalars {
            // ASCII without looking its properties up (a table search per property; most of a message's cost to
            // check): no ASCII character is a mark, blank-looking, default-ignorable or a format character; the
            // controls are 0x00-0x1F and 0x7F, the white space left is the space.
            if scalar.isASCII {
                marks = 0
                switch scalar.value {
                case 0x09, 0x0A, 0x0D, 0x20: continue
                case 0x00..<0x20, 0x7F: throw .invalidArgument("\(field) must not contain \(Refusal.control(scalar).description).")
                default:
                    visible = true
                    continue
                }
            }
            let properties = scalar.properties
            let category = properties.generalCategory
            if self.isStackingMark(category) {
                marks += 1
                if marks > self.maxStackedMarks {
                    throw .invalidArgument("\(field) must not contain \(Refusal.stackedMarks(scalar).description).")
                }
            } else {
                marks = 0
            }
            if category == .control {
                guard scalar == "\t" || scalar == "\n" || scalar == "\r" else {
                    throw .invalidArgument("\(field) must not contain \(Refusal.control(scalar).description).")
                }
                continue
            }
            if properties.isWhitespace { continue }
            if self.isBlank(scalar) {
                invisible = invisible ?? .blank(scalar)
            } else if properties.isDefaultIgnorableCodePoint || category == .format {
                invisible = invisible ?? .invisible(scalar)
            } else {
                visible = true
            }
        }
        guard !visible else { return }
        guard let invisible else { throw .invalidArgument("\(field) must not be empty.") }
        throw .invalidArgument("\(field) must not be made only of white space and \(invisible.description).")
    }

    // MARK: Look-alikes (UTS #39)

    /// The UTS #39 skeleton of `text`: NFD, without default-ignorable code points, each code point replaced by its
    /// prototype from Unicode's confusables table, NFD again. Two strings with one skeleton are confusable. Case is
    /// kept (see ``lookalikeKeys(_:)``).
    public static func skeleton(_ text: String) -> String {
        self.asciiSkeleton(text) ?? self.unicodeSkeleton(text)
    }

    /// ``skeleton(_:)`` of any text, by the book.
    static func unicodeSkeleton(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        let prototypes = Confusables.prototypes
        for scalar in text.decomposedStringWithCanonicalMapping.unicodeScalars where !scalar.properties.isDefaultIgnorableCodePoint {
            if let prototype = prototypes[scalar.value] {
                scalars.append(contentsOf: prototype)
            } else {
                scalars.append(scalar)
            }
        }
        return String(scalars).decomposedStringWithCanonicalMapping
    }

    /// ``skeleton(_:)`` of ASCII text without normalising it (NFD leaves ASCII as it is, and no ASCII character is
    /// default-ignorable), from a table of each ASCII character's prototype; `nil` when the text is not ASCII or holds
    /// a character whose prototype is not. Most names are ASCII, and registering compares three skeletons.
    static func asciiSkeleton(_ text: String) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            guard byte < 0x80, let prototype = Self.asciiPrototypes[Int(byte)] else { return nil }
            bytes.append(contentsOf: prototype)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Each ASCII character's prototype in Unicode's confusables table, or `nil` where that prototype is not ASCII.
    private static let asciiPrototypes: [[UInt8]?] = (0..<128).map { (byte: UInt32) -> [UInt8]? in
        guard let prototype = Confusables.prototypes[byte] else { return [UInt8(byte)] }
        guard prototype.allSatisfy(\.isASCII) else { return nil }
        return prototype.map { UInt8($0.value) }
    }

    /// The keys two names are compared by: the skeleton of the case-folded name, and the skeleton of the case-folded
    /// skeleton (the prototype of a capital I is a small l, so `AIice` reaches `alice` only that way). White space
    /// runs count as one space. Two names look alike when they share a key.
    public static func lookalikeKeys(_ name: String) -> Set<String> {
        let spaced = name.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return [self.skeleton(spaced.lowercased()), self.skeleton(self.skeleton(spaced).lowercased())]
    }

    /// Whether two names look alike (``lookalikeKeys(_:)``).
    public static func areConfusable(_ first: String, _ second: String) -> Bool {
        !self.lookalikeKeys(first).isDisjoint(with: self.lookalikeKeys(second))
    }

    /// The first of `names` that looks like `name`, or `nil`.
    public static func lookalike<Names: Sequence<String>>(of name: String, among names: Names) -> String? {
        let keys = self.lookalikeKeys(name)
        return names.first { !keys.isDisjoint(with: self.lookalikeKeys($0)) }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        self.count >= width ? self : String(repeating: "0", count: width - self.count) + self
    }
}
