import CommuneProtocol

/// A channel that points elsewhere (seed 003's `community` and `user` channel types): another community by its
/// address, or a member of this one by user id. It has no functions of its own; clients open the target.
public struct LinkCodec: ChannelCodec {
    public let name = "link"

    public enum Kind: String, CaseIterable, Sendable {
        case community
        case user
    }

    public init() {}

    public func treeData(for node: Interactable, in community: Community) -> [String: JSONValue] {
        ["kind": .string(node.properties["kind"] ?? ""), "target": .string(node.properties["target"] ?? "")]
    }

    /// The properties of a new link from `create`'s payload: `kind` and a `target` that fits it.
    public func creationProperties(_ reader: PayloadReader, in community: Community) throws(CommuneError) -> [String: String] {
        let kindName = try reader.string("kind")
        guard let kind = Kind(rawValue: kindName) else {
            throw .invalidArgument("data.payload.kind must be one of \(Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        let target = try reader.string("target").trimmingWhitespaceAndNewlines()
        switch kind {
        case .community:
            guard target.hasPrefix("http://") || target.hasPrefix("https://"), target.utf8.count <= 512, !target.contains(" ") else {
                throw .invalidArgument("data.payload.target must be the community's http(s) address.")
            }
        case .user:
            guard let id = UUIDString(target), community.member(id) != nil else {
                throw .invalidArgument("data.payload.target must be the user_id of a member of this community.")
            }
        }
        return ["kind": kind.rawValue, "target": target]
    }
}
