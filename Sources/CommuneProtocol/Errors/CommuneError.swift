/// A failure the client is told about: a stable ``ErrorCode`` and a message for humans.
///
/// The server turns every domain failure into one of these in one place and sends it as an `error` envelope;
/// the client library throws it back to the caller unchanged.
public struct CommuneError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    /// For `rate_limited`: how long to wait before trying again (`data.retry_after_ms` on the wire).
    public var retryAfterMilliseconds: Int64?

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code.rawValue): \(self.message)" }

    public static func badJSON(_ message: String) -> CommuneError { .init(.badJSON, message) }
    public static func invalidArgument(_ message: String) -> CommuneError { .init(.invalidArgument, message) }
    public static func notFound(_ message: String) -> CommuneError { .init(.notFound, message) }
    public static func forbidden(_ message: String) -> CommuneError { .init(.forbidden, message) }
    public static func internalError(_ message: String) -> CommuneError { .init(.internalError, message) }
}

extension CommuneError {
    /// The `error` envelope answering the request with `id`.
    public func envelope(replyingTo id: String?, requestType: MessageType?) -> Envelope {
        var data: [String: JSONValue] = [
            "code": .string(self.code.rawValue),
            "message": .string(self.message),
        ]
        if let requestType { data["request_type"] = .string(requestType.rawValue) }
        if let retryAfterMilliseconds { data["retry_after_ms"] = .int(retryAfterMilliseconds) }
        return Envelope(type: .error, id: id, logLevel: .error, logMessage: self.message, data: .object(data))
    }

    /// Reads an `error` envelope back into the error it carries.
    public init?(envelope: Envelope) {
        guard envelope.type == .error, let code = envelope.data["code"]?.stringValue else { return nil }
        self.init(ErrorCode(rawValue: code), envelope.data["message"]?.stringValue ?? envelope.logMessage)
        if case .int(let milliseconds)? = envelope.data["retry_after_ms"] { self.retryAfterMilliseconds = milliseconds }
    }
}
