import CommuneProtocol

/// A Janus request that failed: Janus refused it (`error {code, reason}` from the core, or a plugin's
/// `error_code`), it got no answer in time, or the connection to Janus is gone.
struct JanusError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Sendable, Hashable {
        case refused(code: Int64, reason: String)
        case timedOut(String)
        case closed
    }

    private let kind: Kind

    /// Janus's own error code (403 no api secret, 433 not in the room's `allowed` list, 427 room exists, …).
    var code: Int64? {
        if case .refused(let code, _) = self.kind { return code }
        return nil
    }

    static func refused(code: Int64, reason: String) -> JanusError { .init(kind: .refused(code: code, reason: reason)) }
    /// No answer to `request` in time.
    static func timedOut(_ request: String) -> JanusError { .init(kind: .timedOut(request)) }
    /// The connection to Janus closed (or was never open).
    static let closed = JanusError(kind: .closed)

    var description: String {
        switch self.kind {
        case .refused(let code, let reason): "Janus refused the request (\(code)): \(reason)"
        case .timedOut(let request): "Janus did not answer '\(request)' in time"
        case .closed: "the connection to Janus is closed"
        }
    }

    /// What a call member is told: the SFU failed, they may try again.
    var commune: CommuneError {
        CommuneError(.voiceUnavailable, "The voice server failed (\(self)); try again in a few seconds.")
    }
}
