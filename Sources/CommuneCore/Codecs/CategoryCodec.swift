import CommuneProtocol

/// A category: holds other interactables, categories included. It has no functions of its own besides the
/// structure functions every node has.
public struct CategoryCodec: ChannelCodec {
    public let name = InteractableNode.categoryCodec

    public init() {}

    public var holdsChildren: Bool { true }

    /// The seed's example tree starts with the category `General`.
    public var defaultNodes: [DefaultNode] { [DefaultNode(path: "", name: "General", position: 0)] }
}
