import Foundation

/// An invite as one copy-pasteable link: `http://HOST:PORT/#invite=CODE`.
///
/// The link carries the community's address and the invite's secret code (seed 000: "It contains the communities
/// IP & a shared secret"). Opened in a browser it lands on the web client's join screen; the code sits in the
/// fragment, so it never reaches the server's access logs. `commune join` takes the same link.
public struct InviteLink: Sendable, Hashable, CustomStringConvertible {
    /// `http://host:port` or `https://host[:port]` with no trailing slash, plus any path prefix.
    public var baseURL: String
    public var code: String

    public init(baseURL: String, code: String) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.code = code
    }

    /// Parses `http[s]://host:port[/prefix]/#invite=CODE`.
    public init?(_ text: String) {
        let trimmed = text.trimmingWhitespace()
        guard trimmed.hasPrefix("http://") || trimmed.hasPrefix("https://") else { return nil }
        guard let marker = trimmed.range(of: "#invite=") else { return nil }
        let code = String(trimmed[marker.upperBound...])
        guard !code.isEmpty, code.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else { return nil }
        self.init(baseURL: String(trimmed[..<marker.lowerBound]), code: code)
    }

    public var description: String { "\(self.baseURL)/#invite=\(self.code)" }

    /// The community's WebSocket URL: the same host and port, `ws` for `http`, `wss` for `https`.
    public var webSocketURL: String { Self.webSocketURL(forBase: self.baseURL) }

    public static func webSocketURL(forBase base: String) -> String {
        var base = base
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasPrefix("https://") { return "wss://" + base.dropFirst("https://".count) + "/" }
        if base.hasPrefix("http://") { return "ws://" + base.dropFirst("http://".count) + "/" }
        return base + "/"
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
