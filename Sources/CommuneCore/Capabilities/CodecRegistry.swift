import CommuneProtocol

/// The one list of what a community can do: its channel codecs and its community-wide features.
///
/// ``Community/perform(_:context:)`` asks it which capability answers a call; the structure functions, the default
/// tree, `create`'s choice of codecs and the connection's pipelining ask it too. Nothing else names a codec.
public struct CodecRegistry: Sendable {
    /// The codec name of the community itself (`path: ""`, `name: ""`).
    public static let communityCodec = CommunityFunctions.codec

    private var codecs: [String: any ChannelCodec]
    private var order: [String]
    /// Community-wide function → the feature that answers it.
    private var features: [String: any Capability]
    /// Functions every interactable has, whatever its codec (create, rename, move, remove).
    private let structure: any Capability
    private let structureFunctions: Set<String>

    /// - Precondition: no two codecs share a name, and no function is answered twice in the same place.
    public init(codecs: [any ChannelCodec], features: [any Capability], structure: any Capability = StructureFunctions()) {
        self.codecs = [:]
        self.order = []
        self.features = [:]
        self.structure = structure
        self.structureFunctions = Set(structure.functions.map(\.name))
        for codec in codecs { self.add(codec) }
        for feature in features {
            for function in feature.functions {
                precondition(self.features[function.name] == nil, "Two community features answer '\(function.name)'.")
                self.features[function.name] = feature
            }
        }
    }

    /// Commune's built-in codecs and features.
    public static let standard = CodecRegistry(
        codecs: [CategoryCodec(), TextChannelCodec(), VoiceChannelCodec(), LinkCodec()],
        features: [
            MemberListFeature(), MemberFunctions(), GroupFunctions(), InviteFunctions(), InfoFunctions(), AuditFunctions(),
            SearchFunctions(),
            ReadStateFunctions(), HomeFunctions(),
        ]
    )

    /// This registry with one more codec.
    public func adding(_ codec: any ChannelCodec) -> CodecRegistry {
        var registry = self
        registry.add(codec)
        return registry
    }

    private mutating func add(_ codec: any ChannelCodec) {
        precondition(self.codecs[codec.name] == nil, "Two codecs are named '\(codec.name)'.")
        precondition(codec.name != Self.communityCodec, "'\(Self.communityCodec)' names the community, not a codec.")
        for function in codec.functions {
            precondition(!self.structureFunctions.contains(function.name), "'\(function.name)' is a structure function.")
        }
        self.codecs[codec.name] = codec
        self.order.append(codec.name)
    }

    /// The codec named `name`, if this server has it.
    public subscript(name: String) -> (any ChannelCodec)? { self.codecs[name] }

    /// Every codec's name, in registration order.
    public var codecNames: [String] { self.order }

    /// Whether nodes of codec `name` hold children (categories).
    public func holdsChildren(_ name: String) -> Bool { self.codecs[name]?.holdsChildren ?? false }

    /// The capability that answers `function` on a node of codec `codec`, or on the community when `codec` is `nil`.
    public func capability(for function: String, codec: String?) -> (any Capability)? {
        guard let codec else { return self.features[function] }
        if self.structureFunctions.contains(function) { return self.structure }
        guard let channelCodec = self.codecs[codec], channelCodec.functions.contains(where: { $0.name == function }) else {
            return nil
        }
        return channelCodec
    }

    /// Whether `function` on codec `codec` (`nil`: the community) may run pipelined (see ``FunctionSpec/pipelined``).
    public func isPipelined(_ function: String, codec: String?) -> Bool {
        let capability = self.capability(for: function, codec: codec)
        return capability?.functions.contains { $0.name == function && $0.pipelined } ?? false
    }

    /// The default tree of a new community: every codec's ``ChannelCodec/defaultNodes``, parents first.
    public var defaultTree: [(codec: String, node: DefaultNode)] {
        self.order.flatMap { name in self.codecs[name]!.defaultNodes.map { (codec: name, node: $0) } }
            .sorted { lhs, rhs in
                let depth = (ChannelAddress(slashed: lhs.node.path)?.pathComponents.count ?? -1, lhs.node.path, lhs.node.position)
                let other = (ChannelAddress(slashed: rhs.node.path)?.pathComponents.count ?? -1, rhs.node.path, rhs.node.position)
                return depth < other
            }
    }
}
