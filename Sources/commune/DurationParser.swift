/// Parses durations such as `90s`, `30m`, `12h`, `7d`, `2w` into milliseconds; `never` is `nil`.
enum DurationParser {
    static func milliseconds(_ text: String) throws -> Int64? {
        let lowered = text.lowercased()
        if lowered == "never" || lowered == "none" { return nil }
        guard let unit = lowered.last, let number = Int64(lowered.dropLast()), number > 0 else {
            throw DurationError(text)
        }
        let seconds: Int64
        switch unit {
        case "s": seconds = 1
        case "m": seconds = 60
        case "h": seconds = 3_600
        case "d": seconds = 86_400
        case "w": seconds = 604_800
        default: throw DurationError(text)
        }
        let (product, overflow) = number.multipliedReportingOverflow(by: seconds * 1_000)
        guard !overflow, product < 100 * 365 * 86_400_000 else { throw DurationError(text) }
        return product
    }

    struct DurationError: Error, CustomStringConvertible {
        let text: String
        init(_ text: String) { self.text = text }
        var description: String { "'\(self.text)' is not a duration: use a number and a unit (s, m, h, d, w), e.g. 7d, or 'never'." }
    }
}
