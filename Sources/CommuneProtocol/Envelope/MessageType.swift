/// The `type` of an envelope.
///
/// A struct rather than an enum so that an unknown type read off the wire can still be named in the
/// `unknown_type` error the server answers with; every type Commune knows is a static member here and nowhere else.
public struct MessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { self.rawValue }

    /// Client → server: join with an invite. Server → client: the answer, with the same `type`.
    public static let register = MessageType(rawValue: "register")
    /// Client → server: start logging in as a registered member.
    public static let identification = MessageType(rawValue: "identification")
    /// Server → client: the encrypted challenge to solve.
    public static let challenge = MessageType(rawValue: "challenge")
    /// Client → server: the solved challenge.
    public static let challengeResponse = MessageType(rawValue: "challenge_response")
    /// Server → client: logged in, with the tree of interactables.
    public static let identificationResponse = MessageType(rawValue: "identification_response")
    /// Client → server: run a function on an interactable. Server → client: its result, with the same `id`.
    public static let function = MessageType(rawValue: "function")
    /// Server → client: something changed that this member may see.
    public static let update = MessageType(rawValue: "update")
    /// Server → client: a request failed; `data.code` says why.
    public static let error = MessageType(rawValue: "error")
    /// Either way: keep-alive. The server answers `ping` with `pong`.
    public static let ping = MessageType(rawValue: "ping")
    public static let pong = MessageType(rawValue: "pong")
}
