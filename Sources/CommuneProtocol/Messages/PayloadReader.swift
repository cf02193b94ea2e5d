/// Reads typed fields out of a JSON object and turns every mistake into a precise `invalid_argument`.
///
/// `PayloadReader(payload, context: "payload")` then `try reader.string("message")` either returns the string
/// or throws `invalid_argument: payload.message must be a string, not number`.
public struct PayloadReader: Sendable {
    public let object: [String: JSONValue]
    public let context: String

    public init(_ value: JSONValue, context: String) throws(CommuneError) {
        guard case .object(let object) = value else {
            throw .invalidArgument("\(context) must be an object, not \(value.typeName).")
        }
        self.object = object
        self.context = context
    }

    func name(_ key: String) -> String { self.context.isEmpty ? key : "\(self.context).\(key)" }

    public func string(_ key: String) throws(CommuneError) -> String {
        guard let value = try self.optionalString(key) else { throw .invalidArgument("\(self.name(key)) is required.") }
        return value
    }

    public func optionalString(_ key: String) throws(CommuneError) -> String? {
        switch self.object[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let other?: throw .invalidArgument("\(self.name(key)) must be a string, not \(other.typeName).")
        }
    }

    public func int(_ key: String) throws(CommuneError) -> Int64 {
        guard let value = try self.optionalInt(key) else { throw .invalidArgument("\(self.name(key)) is required.") }
        return value
    }

    public func optionalInt(_ key: String) throws(CommuneError) -> Int64? {
        switch self.object[key] {
        case nil, .null?: return nil
        case let value?:
            guard let number = value.intValue else {
                if case .double = value { throw .invalidArgument("\(self.name(key)) must be a whole number.") }
                throw .invalidArgument("\(self.name(key)) must be a number, not \(value.typeName).")
            }
            return number
        }
    }

    public func optionalBool(_ key: String) throws(CommuneError) -> Bool? {
        switch self.object[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case let other?: throw .invalidArgument("\(self.name(key)) must be a boolean, not \(other.typeName).")
        }
    }

    public func uuid(_ key: String) throws(CommuneError) -> UUIDString {
        let text = try self.string(key)
        guard let id = UUIDString(text) else {
            throw .invalidArgument("\(self.name(key)) must be a UUID like 6f1c2c9e-0d6b-4e4e-9a43-8d2b1f7e5a10.")
        }
        return id
    }

    public func object(_ key: String) throws(CommuneError) -> PayloadReader {
        switch self.object[key] {
        case nil, .null?: return try PayloadReader(.object([:]), context: self.name(key))
        case let value?: return try PayloadReader(value, context: self.name(key))
        }
    }
}
