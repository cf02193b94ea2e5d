/// The stable, machine-readable reason in an `error` envelope's `data.code`.
///
/// Clients switch on these strings; their spelling never changes. New codes may be added, so a client should treat
/// an unknown code as a generic failure and show the human `message`.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { self.rawValue }

    /// The frame is not a JSON object with a string `type` (or is not a text frame).
    public static let badJSON = ErrorCode(rawValue: "bad_json")
    /// The envelope's `type` is not one the server knows.
    public static let unknownType = ErrorCode(rawValue: "unknown_type")
    /// The request needs a logged-in connection.
    public static let notAuthenticated = ErrorCode(rawValue: "not_authenticated")
    /// The request is not valid in the connection's current state (for example `challenge_response` with no challenge).
    public static let unexpectedMessage = ErrorCode(rawValue: "unexpected_message")
    /// No such channel, function target, message or member.
    public static let notFound = ErrorCode(rawValue: "not_found")
    /// The channel's codec has no function of that name.
    public static let unknownFunction = ErrorCode(rawValue: "unknown_function")
    /// A field is missing, has the wrong JSON type, or a value is out of range.
    public static let invalidArgument = ErrorCode(rawValue: "invalid_argument")
    /// The frame or a value is larger than the server accepts.
    public static let tooLarge = ErrorCode(rawValue: "too_large")
    /// The invite is unknown, used up, expired or revoked.
    public static let inviteInvalid = ErrorCode(rawValue: "invite_invalid")
    /// The `user_id` or public key is already registered on this community.
    public static let alreadyRegistered = ErrorCode(rawValue: "already_registered")
    /// That user id or key is banned from this community.
    public static let banned = ErrorCode(rawValue: "banned")
    /// No member with that `user_id` is registered here.
    public static let unknownUser = ErrorCode(rawValue: "unknown_user")
    /// The challenge answer was wrong, replayed or late. The server closes the socket after this error.
    public static let challengeFailed = ErrorCode(rawValue: "challenge_failed")
    /// The member lacks the permission the request needs.
    public static let forbidden = ErrorCode(rawValue: "forbidden")
    /// The client sends faster than the server allows; retry after a pause.
    public static let rateLimited = ErrorCode(rawValue: "rate_limited")
    /// The server's storage is full: the request's change was not stored. Retry later; other requests may work.
    public static let storageFull = ErrorCode(rawValue: "storage_full")
    /// Voice is not available on this server right now (its media server is not running or is restarting).
    public static let voiceUnavailable = ErrorCode(rawValue: "voice_unavailable")
    /// The call already has as many members as this server allows in one call.
    public static let callFull = ErrorCode(rawValue: "call_full")
    /// A bounded collection is full: a message's distinct reactions, one member's reactions on a message, a
    /// channel's pins. A well-formed request the server declined; nothing changed.
    public static let limitReached = ErrorCode(rawValue: "limit_reached")
    /// Something failed on the server; the request had no effect that the client can rely on.
    public static let internalError = ErrorCode(rawValue: "internal_error")

    /// Whether the error means the client sent something malformed or out of place, as opposed to a well-formed
    /// request the server declined (`forbidden`, `not_found`, …). Only malformed traffic counts towards the
    /// disconnect after too many errors in a row.
    public var isMalformedRequest: Bool {
        switch self {
        case .badJSON, .unknownType, .notAuthenticated, .unexpectedMessage, .invalidArgument, .tooLarge, .unknownFunction:
            return true
        default:
            return false
        }
    }
}
