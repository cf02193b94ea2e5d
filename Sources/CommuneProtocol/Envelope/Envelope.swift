/// The one frame shape Commune speaks: `{type, id, log: {log_level, message}, data}`.
///
/// `id` ties a reply to its request: a client chooses it (a UUID string is customary) and every reply, error
/// included, carries it back. Server-pushed updates carry a fresh id of their own.
public struct Envelope: Sendable, Hashable {
    public var type: MessageType
    public var id: String?
    public var logLevel: LogLevel
    public var logMessage: String
    public var data: JSONValue
    /// An `update`'s place in the community's stream of updates (``StreamPoint``); `nil` on every other frame and
    /// on updates meant for one connection only.
    public var position: Int64?

    public init(
        type: MessageType,
        id: String? = nil,
        logLevel: LogLevel = .info,
        logMessage: String = "",
        data: JSONValue = .object([:]),
        position: Int64? = nil
    ) {
        self.type = type
        self.id = id
        self.logLevel = logLevel
        self.logMessage = logMessage
        self.data = data
        self.position = position
    }
}

extension Envelope {
    /// Decodes one text frame.
    ///
    /// - Throws: ``CommuneError`` `bad_json` when the text is not a JSON object with a string `type`;
    ///   `invalid_argument` when `id`, `log` or `data` have the wrong JSON type.
    public init(json text: String) throws(CommuneError) {
        let value: JSONValue
        do {
            value = try JSONValue.parse(text)
        } catch {
            throw .badJSON("The frame is not valid JSON: \(error.reason)")
        }
        guard case .object(let object) = value else {
            throw .badJSON("The frame must be a JSON object, not \(value.typeName).")
        }
        guard let typeValue = object["type"] else {
            throw .badJSON("The frame has no \"type\".")
        }
        guard case .string(let type) = typeValue else {
            throw .badJSON("\"type\" must be a string, not \(typeValue.typeName).")
        }
        self.type = MessageType(rawValue: type)
        switch object["id"] {
        case nil, .null?: self.id = nil
        case .string(let id)?:
            guard id.utf8.count <= 128 else { throw .invalidArgument("\"id\" is longer than 128 bytes.") }
            self.id = id
        case .int(let number)?: self.id = String(number)
        case let other?: throw .invalidArgument("\"id\" must be a string, not \(other.typeName).")
        }
        self.logLevel = .info
        self.logMessage = ""
        if let log = object["log"], log != .null {
            guard case .object(let fields) = log else {
                throw .invalidArgument("\"log\" must be an object, not \(log.typeName).")
            }
            if let level = fields["log_level"]?.intValue, let known = LogLevel(rawValue: Int(level)) {
                self.logLevel = known
            }
            self.logMessage = fields["message"]?.stringValue ?? ""
        }
        switch object["data"] {
        case nil, .null?: self.data = .object([:])
        case .object(let data)?: self.data = .object(data)
        case let other?: throw .invalidArgument("\"data\" must be an object, not \(other.typeName).")
        }
        // Only the server sends it; a request's `position` means nothing and is not read.
        self.position = self.type == .update ? object["position"]?.intValue : nil
    }

    /// The envelope as UTF-8 JSON bytes, keys in the order `type`, `id`, `log`, `data`, then `position` when there is one.
    public var jsonBytes: [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.writeRaw("{\"type\":")
        writer.write(string: self.type.rawValue)
        if let id = self.id {
            writer.writeRaw(",\"id\":")
            writer.write(string: id)
        }
        writer.writeRaw(",\"log\":{\"log_level\":")
        writer.writeRaw(String(self.logLevel.rawValue))
        writer.writeRaw(",\"message\":")
        writer.write(string: self.logMessage)
        writer.writeRaw("},\"data\":")
        writer.write(self.data)
        if let position = self.position {
            writer.writeRaw(",\"position\":")
            writer.writeRaw(String(position))
        }
        writer.writeRaw("}")
        return writer.bytes
    }

    /// `encoded` (the ``jsonBytes`` of an envelope without a position) with `position` added, as ``jsonBytes``
    /// would write it: for giving an update its place in the stream after the costly encoding is done.
    public static func adding(position: Int64, to encoded: [UInt8]) -> [UInt8] {
        precondition(encoded.last == UInt8(ascii: "}"), "not an encoded envelope")
        var bytes = encoded
        bytes.removeLast()
        bytes.append(contentsOf: ",\"position\":\(position)}".utf8)
        return bytes
    }

    /// `encoded` (the ``jsonBytes`` of an envelope without a position, whose `data` is an object) with `fields`
    /// added to its `data`: for completing a reply with what is known only at the last moment.
    public static func adding(dataFields fields: KeyValuePairs<String, JSONValue>, to encoded: [UInt8]) -> [UInt8] {
        precondition(encoded.suffix(2).elementsEqual("}}".utf8), "not an encoded envelope with object data")
        var bytes = Array(encoded.dropLast(2))
        var separator = bytes.last == UInt8(ascii: "{") ? "" : ","
        var writer = JSONWriter(capacity: 128)
        for (key, value) in fields {
            writer.writeRaw(separator)
            writer.write(string: key)
            writer.writeRaw(":")
            writer.write(value)
            separator = ","
        }
        writer.writeRaw("}}")
        bytes.append(contentsOf: writer.bytes)
        return bytes
    }

    /// The envelope as JSON text.
    public var jsonString: String {
        String(decoding: self.jsonBytes, as: UTF8.self)
    }
}
