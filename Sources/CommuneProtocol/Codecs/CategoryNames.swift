extension InteractableNode {
    /// The codec name of a category node: on the wire, a category's `data` holds its children by name.
    public static let categoryCodec = "category"
}
