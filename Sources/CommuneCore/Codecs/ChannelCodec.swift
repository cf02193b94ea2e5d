import CommuneProtocol

/// The behaviour of one kind of interactable: its functions, its updates and its data in the tree.
///
/// Seed 000: "mods can create their own channel codecs". Each codec is one type behind this protocol, registered
/// in ``CodecRegistry``; a new kind of channel is a new file, not edits across the server.
public protocol ChannelCodec: Sendable {
    /// The `codec` string on the wire: `text`, `voice`, `category`, …
    var name: String { get }

    /// The node's `data` in `identification_response.interactables` (not used for categories, whose data is
    /// their children).
    func treeData(for node: Interactable, in community: Community) -> [String: JSONValue]

    /// Runs `request.function` on `node`. Throws `unknown_function` for a function the codec does not have.
    func perform(_ request: FunctionRequest, on node: Interactable, address: ChannelAddress, context: FunctionContext)
        async throws(CommuneError) -> FunctionResult
}

extension ChannelCodec {
    public func treeData(for node: Interactable, in community: Community) -> [String: JSONValue] { [:] }

    func unknownFunction(_ request: FunctionRequest) -> CommuneError {
        CommuneError(.unknownFunction, "The \(self.name) codec has no function '\(request.function)'.")
    }
}
