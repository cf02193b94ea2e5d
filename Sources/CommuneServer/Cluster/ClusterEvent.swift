import CommuneCore
import CommuneProtocol

/// What one node tells the others through the cluster's stream (the body of a ``ClusterRecord`` event), as JSON.
enum ClusterEvent: Sendable, Equatable {
    /// An update for members: its envelope as the origin encoded it (without a position), whom it is for, and the
    /// origin's connection that got a reply instead.
    case update(envelope: String, scope: Audience.Scope, excluded: UInt64?)
    /// Close every connection of a member.
    case disconnect(member: UUIDString, reason: String)
    /// Reload from the store what the origin changed.
    case changed(CacheChange)

    var body: String {
        let object: JSONValue =
            switch self {
            case .update(let envelope, let scope, let excluded):
                ["update": .string(envelope), "to": Self.json(scope), "excluded": excluded.map { .string(String($0)) } ?? .null]
            case .disconnect(let member, let reason):
                ["disconnect": .string(member.value), "reason": .string(reason)]
            case .changed(let change):
                ["changed": Self.json(change)]
            }
        return object.jsonString
    }

    init(body: String) throws(ClusterEventError) {
        let object: [String: JSONValue]
        do {
            guard let parsed = try JSONValue.parse(body).objectValue else { throw ClusterEventError(body) }
            object = parsed
        } catch {
            throw ClusterEventError(body)
        }
        if let envelope = object["update"]?.stringValue {
            guard let to = object["to"], let scope = Self.scope(to) else { throw ClusterEventError(body) }
            self = .update(envelope: envelope, scope: scope, excluded: object["excluded"]?.stringValue.flatMap(UInt64.init))
        } else if let member = object["disconnect"]?.stringValue.flatMap(UUIDString.init) {
            self = .disconnect(member: member, reason: object["reason"]?.stringValue ?? "")
        } else if let changed = object["changed"], let change = Self.change(changed) {
            self = .changed(change)
        } else {
            throw ClusterEventError(body)
        }
    }

    private static func json(_ scope: Audience.Scope) -> JSONValue {
        switch scope {
        case .community: ["community": true]
        case .channelViewers(let id): ["channel": .int(id)]
        case .permissionHolders(let permission): ["permission": .string(permission.rawValue)]
        case .member(let id): ["members": [.string(id.value)]]
        case .members(let ids): ["members": .array(ids.map { .string($0.value) })]
        // Never sent: an update for one connection stays on its node.
        case .connection: ["nobody": true]
        }
    }

    private static func scope(_ json: JSONValue) -> Audience.Scope? {
        if json["community"] != nil { return .community }
        if let id = json["channel"]?.intValue { return .channelViewers(id) }
        if let name = json["permission"]?.stringValue { return .permissionHolders(Permission(rawValue: name)) }
        if let ids = json["members"]?.arrayValue { return .members(Set(ids.compactMap { $0.stringValue.flatMap(UUIDString.init) })) }
        return nil
    }

    private static func json(_ change: CacheChange) -> JSONValue {
        switch change {
        case .tree: "tree"
        case .groups: "groups"
        case .info: "info"
        case .member(let id): ["member": .string(id.value)]
        }
    }

    private static func change(_ json: JSONValue) -> CacheChange? {
        switch json.stringValue {
        case "tree": return .tree
        case "groups": return .groups
        case "info": return .info
        default: return json["member"]?.stringValue.flatMap(UUIDString.init).map(CacheChange.member)
        }
    }
}

/// A record body this version cannot read (written by a newer node, say).
struct ClusterEventError: Error, CustomStringConvertible {
    var body: String
    init(_ body: String) { self.body = String(body.prefix(200)) }
    var description: String { "Unreadable cluster record: \(self.body)" }
}
