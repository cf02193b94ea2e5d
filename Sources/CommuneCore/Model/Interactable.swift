/// One stored node of the interactable tree: a category or a channel.
public struct Interactable: Sendable, Hashable, Identifiable {
    public var id: Int64
    /// The category this node sits in; `nil` at the top level.
    public var parentID: Int64?
    public var name: String
    /// `category`, `text`, `voice`, …: the ``ChannelCodec`` that handles its functions.
    public var codec: String
    /// Order among its siblings, from 0.
    public var position: Int64
    /// Codec-specific settings: a channel's `topic`, a link's `kind` and `target`.
    public var properties: [String: String]

    public init(id: Int64, parentID: Int64?, name: String, codec: String, position: Int64, properties: [String: String] = [:]) {
        self.id = id
        self.parentID = parentID
        self.name = name
        self.codec = codec
        self.position = position
        self.properties = properties
    }
}

/// An interactable to create; the store assigns its id.
public struct NewInteractable: Sendable, Hashable {
    public var parentID: Int64?
    public var name: String
    public var codec: String
    public var position: Int64
    public var properties: [String: String]

    public init(parentID: Int64?, name: String, codec: String, position: Int64, properties: [String: String] = [:]) {
        self.parentID = parentID
        self.name = name
        self.codec = codec
        self.position = position
        self.properties = properties
    }
}
