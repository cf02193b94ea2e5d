/// A client-side failure that is not an `error` envelope from the server (those are ``CommuneProtocol/CommuneError``).
public struct CommuneClientError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable {
        case connectionClosed(code: Int?, reason: String?)
        case timedOut(String)
        case unexpectedReply(String)
        case communityKeyMismatch
        case invalidURL(String)
    }

    private let kind: Kind

    /// The socket closed; `code` and `reason` are the server's close frame, if it sent one.
    public static func connectionClosed(code: Int?, reason: String?) -> Self { .init(kind: .connectionClosed(code: code, reason: reason)) }
    /// No reply came in time.
    public static func timedOut(_ what: String) -> Self { .init(kind: .timedOut(what)) }
    /// The server answered with a frame of the wrong type.
    public static func unexpectedReply(_ what: String) -> Self { .init(kind: .unexpectedReply(what)) }
    /// The server's key differs from the one seen when joining: it may not be the same community.
    public static let communityKeyMismatch = Self(kind: .communityKeyMismatch)
    public static func invalidURL(_ url: String) -> Self { .init(kind: .invalidURL(url)) }

    /// The server's close code when the connection closed.
    public var closeCode: Int? {
        if case .connectionClosed(let code, _) = self.kind { return code }
        return nil
    }

    public var description: String {
        switch self.kind {
        case .connectionClosed(let code, let reason):
            let detail = [code.map { "code \($0)" }, reason.flatMap { $0.isEmpty ? nil : $0 }].compactMap { $0 }.joined(separator: ": ")
            return detail.isEmpty ? "The connection closed." : "The connection closed (\(detail))."
        case .timedOut(let what): return "No reply to \(what) in time."
        case .unexpectedReply(let what): return "Unexpected reply: \(what)."
        case .communityKeyMismatch:
            return "The server's community key differs from the one seen when joining; refusing to log in."
        case .invalidURL(let url): return "Not a Commune URL: \(url)"
        }
    }
}
