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

    /// The record's body: one header line of tab-separated fields, then (for an update) the envelope exactly as
    /// the origin encoded it, so that a node reading it splits a line instead of parsing and unescaping JSON:
    ///
    ///     u<TAB>SCOPE<TAB>EXCLUDED-CONNECTION-OR-EMPTY<LF>ENVELOPE
    ///     d<TAB>USER_ID<LF>REASON
    ///     x<TAB>tree | groups | info | member:USER_ID
    ///
    /// SCOPE is `c` (community), `v:ID` (viewers of channel ID), `p:NAME` (holders of a permission),
    /// `m:ID,ID,…` (members) or `l:ID:RANK,RANK,…` (who shows a member in their member list).
    var body: String {
        switch self {
        case .update(let envelope, let scope, let excluded):
            "u\t\(Self.encode(scope))\t\(excluded.map(String.init) ?? "")\n\(envelope)"
        case .disconnect(let member, let reason):
            "d\t\(member.value)\n\(reason)"
        case .changed(let change):
            "x\t\(Self.encode(change))"
        }
    }

    init(body: String) throws(ClusterEventError) {
        let utf8 = body.utf8
        let newline = utf8.firstIndex(of: UInt8(ascii: "\n")) ?? utf8.endIndex
        let header = body[..<newline].split(separator: "\t", omittingEmptySubsequences: false)
        let rest = newline == utf8.endIndex ? Substring("") : body[utf8.index(after: newline)...]
        switch (header.first, header.count) {
        case ("u", 3):
            guard let scope = Self.scope(header[1]) else { throw ClusterEventError(body) }
            self = .update(envelope: String(rest), scope: scope, excluded: UInt64(header[2]))
        case ("d", 2):
            guard let member = UUIDString(String(header[1])) else { throw ClusterEventError(body) }
            self = .disconnect(member: member, reason: String(rest))
        case ("x", 2):
            guard let change = Self.change(header[1]) else { throw ClusterEventError(body) }
            self = .changed(change)
        default:
            throw ClusterEventError(body)
        }
    }

    private static func encode(_ scope: Audience.Scope) -> String {
        switch scope {
        case .community: "c"
        case .channelViewers(let id): "v:\(id)"
        case .permissionHolders(let permission): "p:\(permission.rawValue)"
        case .member(let id): "m:\(id.value)"
        case .members(let ids): "m:" + ids.map(\.value).joined(separator: ",")
        case .listing(let id, let ranks): "l:\(id.value):" + ranks.map(String.init).joined(separator: ",")
        // Never sent: an update for one connection stays on its node.
        case .connection: "m:"
        }
    }

    private static func scope(_ text: Substring) -> Audience.Scope? {
        if text == "c" { return .community }
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let value = text[text.index(after: colon)...]
        switch text[..<colon] {
        case "v": return Int64(value).map(Audience.Scope.channelViewers)
        case "p": return .permissionHolders(Permission(rawValue: String(value)))
        case "m": return .members(Set(value.split(separator: ",").compactMap { UUIDString(String($0)) }))
        case "l":
            let parts = value.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let id = UUIDString(String(parts[0])) else { return nil }
            return .listing(id, ranks: parts[1].split(separator: ",").compactMap { Int($0) })
        default: return nil
        }
    }

    private static func encode(_ change: CacheChange) -> String {
        switch change {
        case .tree: "tree"
        case .groups: "groups"
        case .info: "info"
        case .member(let id): "member:\(id.value)"
        }
    }

    private static func change(_ text: Substring) -> CacheChange? {
        switch text {
        case "tree": return .tree
        case "groups": return .groups
        case "info": return .info
        default:
            guard text.hasPrefix("member:") else { return nil }
            return UUIDString(String(text.dropFirst("member:".count))).map(CacheChange.member)
        }
    }
}

/// A record body this version cannot read (written by a newer node, say).
struct ClusterEventError: Error, CustomStringConvertible {
    var body: String
    init(_ body: String) { self.body = String(body.prefix(200)) }
    var description: String { "Unreadable cluster record: \(self.body)" }
}
