/// Where a logged-in connection stands in the community's stream of updates: every `update` a member can see has a
/// `position` in one ordered stream, so a client that reconnects can say where it was and get what it missed.
///
/// `identification_response.data.stream` gives the stream's `id`, the `position` of the last update before this
/// login, and this connection's key (`connection`), which a later resume names so that updates this connection was
/// answered for directly are not sent again.
public struct StreamPoint: Sendable, Hashable {
    /// The stream's identity. A stream that is not the one a client was on (the server restarted, say) cannot be
    /// resumed.
    public var id: String
    /// The position of the last update before this login; every later update this member may see follows, live.
    public var position: Int64
    /// This connection's key in the stream.
    public var connection: String

    public init(id: String, position: Int64, connection: String) {
        self.id = id
        self.position = position
        self.connection = connection
    }

    public init(data: JSONValue) throws(CommuneError) {
        let reader = try PayloadReader(data, context: "data.stream")
        self.id = try reader.string("id")
        self.position = try reader.int("position")
        self.connection = try reader.optionalString("connection") ?? ""
    }

    public var data: JSONValue {
        ["id": .string(self.id), "position": .int(self.position), "connection": .string(self.connection)]
    }
}

/// `identification.data.resume`: the stream a client was on and the position of the last update it received there.
public struct ResumePoint: Sendable, Hashable {
    /// `StreamPoint.id` of the stream the client was on.
    public var stream: String
    /// The position of the last update the client received (or the login's `stream.position` when none came).
    public var position: Int64
    /// `StreamPoint.connection` of the connection it had, when known: updates that connection was answered for
    /// directly (its own message, say) are not sent again.
    public var connection: String?

    /// The longest `stream` and `connection` accepted.
    public static let maxKeyBytes = 64

    public init(stream: String, position: Int64, connection: String? = nil) {
        self.stream = stream
        self.position = position
        self.connection = connection
    }

    /// Reads `data.resume`, refusing with `invalid_argument` what cannot be a point in a stream.
    public init(data: JSONValue) throws(CommuneError) {
        let reader = try PayloadReader(data, context: "data.resume")
        self.stream = try reader.string("stream")
        self.position = try reader.int("position")
        self.connection = try reader.optionalString("connection")
        guard self.stream.utf8.count <= Self.maxKeyBytes, (self.connection?.utf8.count ?? 0) <= Self.maxKeyBytes else {
            throw .invalidArgument("data.resume.stream and data.resume.connection are at most \(Self.maxKeyBytes) bytes.")
        }
        guard self.position >= 0 else { throw .invalidArgument("data.resume.position must be 0 or more.") }
    }

    public var data: JSONValue {
        var fields: [String: JSONValue] = ["stream": .string(self.stream), "position": .int(self.position)]
        if let connection = self.connection { fields["connection"] = .string(connection) }
        return .object(fields)
    }
}

/// `identification_response.data.resume`, present when the `identification` asked to resume.
public enum ResumeOutcome: Sendable, Hashable {
    /// The `missed` updates follow this reply at once, in order, before any other update.
    case resumed(missed: Int)
    /// The stream cannot be resumed from that point (another stream, or further back than the server keeps): the
    /// reply's snapshot is current; refetch the history of what is shown.
    case refetch(reason: String)

    public init(data: JSONValue) throws(CommuneError) {
        let reader = try PayloadReader(data, context: "data.resume")
        switch try reader.string("status") {
        case "resumed": self = .resumed(missed: Int(try reader.optionalInt("missed") ?? 0))
        case "refetch": self = .refetch(reason: try reader.optionalString("reason") ?? "")
        case let status: throw .invalidArgument("data.resume.status '\(status)' is not resumed or refetch.")
        }
    }

    public var data: JSONValue {
        switch self {
        case .resumed(let missed): ["status": "resumed", "missed": .int(Int64(missed))]
        case .refetch(let reason): ["status": "refetch", "reason": .string(reason)]
        }
    }
}
