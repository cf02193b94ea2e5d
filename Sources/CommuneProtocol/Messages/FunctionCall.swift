/// The address of an interactable: the names of the categories above it joined by `/`, and its own name.
///
/// `ChannelAddress(path: "General", name: "General")` is the text channel `General` inside the category `General`;
/// a top-level channel has the path `""`.
public struct ChannelAddress: Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var name: String

    public init(path: String, name: String) {
        self.path = path
        self.name = name
    }

    /// Parses `"General/General"` or `"/Rules"` / `"Rules"` (the last component is the name).
    public init?(slashed text: String) {
        var parts = text.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let name = parts.popLast() else { return nil }
        self.init(path: parts.joined(separator: "/"), name: name)
    }

    /// The path components of the categories above the interactable.
    public var pathComponents: [String] {
        self.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    public var description: String { self.path.isEmpty ? self.name : "\(self.path)/\(self.name)" }
}

/// `function` request data: run `function` on the interactable at `path`/`name`.
public struct FunctionRequest: Sendable, Hashable {
    /// The codec the client expects the interactable to have. Optional; when given it must match.
    public var codec: String?
    public var address: ChannelAddress
    public var function: String
    public var payload: JSONValue

    public init(codec: String?, address: ChannelAddress, function: String, payload: JSONValue = .object([:])) {
        self.codec = codec
        self.address = address
        self.function = function
        self.payload = payload
    }

    public init(data: JSONValue) throws(CommuneError) {
        let reader = try PayloadReader(data, context: "data")
        self.codec = try reader.optionalString("codec")
        // `path` is required like `name`: a missing one is a client's mistake, not the top level (that is `""`).
        self.address = ChannelAddress(path: try reader.string("path"), name: try reader.string("name"))
        self.function = try reader.string("function")
        switch data["payload"] {
        case nil, .null?: self.payload = .object([:])
        case .object(let payload)?: self.payload = .object(payload)
        case let other?: throw .invalidArgument("data.payload must be an object, not \(other.typeName).")
        }
    }

    public var data: JSONValue {
        var data: [String: JSONValue] = [
            "name": .string(self.address.name), "path": .string(self.address.path),
            "function": .string(self.function), "payload": self.payload,
        ]
        if let codec = self.codec { data["codec"] = .string(codec) }
        return .object(data)
    }
}

/// The data of a `function` reply or of an `update`: `{codec, name, path, result, payload}`.
public struct FunctionResult: Sendable, Hashable {
    public var codec: String
    public var address: ChannelAddress
    /// What happened: `message_received`, `message_chunk`, `message_live`, …
    public var result: String
    public var payload: JSONValue

    public init(codec: String, address: ChannelAddress, result: String, payload: JSONValue = .object([:])) {
        self.codec = codec
        self.address = address
        self.result = result
        self.payload = payload
    }

    public init(data: JSONValue) throws(CommuneError) {
        let reader = try PayloadReader(data, context: "data")
        self.codec = try reader.optionalString("codec") ?? ""
        self.address = ChannelAddress(path: try reader.optionalString("path") ?? "", name: try reader.optionalString("name") ?? "")
        self.result = try reader.string("result")
        self.payload = data["payload"] ?? .object([:])
    }

    public var data: JSONValue {
        [
            "codec": .string(self.codec), "name": .string(self.address.name), "path": .string(self.address.path),
            "result": .string(self.result), "payload": self.payload,
        ]
    }
}
