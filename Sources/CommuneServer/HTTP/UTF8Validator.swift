/// Checks UTF-8 a byte at a time, across frame boundaries (Unicode 15, table 3-7: no overlong forms, no surrogates,
/// nothing above U+10FFFF).
struct UTF8Validator {
    private var needed = 0
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    /// `false` when `byte` cannot continue valid UTF-8.
    mutating func read(_ byte: UInt8) -> Bool {
        if self.needed == 0 {
            switch byte {
            case 0x00...0x7F: return true
            case 0xC2...0xDF: self.needed = 1
            case 0xE0: (self.needed, self.lower) = (2, 0xA0)
            case 0xE1...0xEC, 0xEE...0xEF: self.needed = 2
            case 0xED: (self.needed, self.upper) = (2, 0x9F)
            case 0xF0: (self.needed, self.lower) = (3, 0x90)
            case 0xF1...0xF3: self.needed = 3
            case 0xF4: (self.needed, self.upper) = (3, 0x8F)
            default: return false
            }
            return true
        }
        guard byte >= self.lower, byte <= self.upper else { return false }
        (self.lower, self.upper) = (0x80, 0xBF)
        self.needed -= 1
        return true
    }

    /// No code point is left unfinished.
    var isComplete: Bool { self.needed == 0 }
}
