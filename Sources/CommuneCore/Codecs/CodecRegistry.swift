/// The codecs a community knows, by wire name. The one place a codec is registered.
public struct CodecRegistry: Sendable {
    private var codecs: [String: any ChannelCodec]

    public init(_ codecs: [any ChannelCodec]) {
        self.codecs = Dictionary(codecs.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// Commune's built-in codecs.
    public static let standard = CodecRegistry([CategoryCodec(), TextChannelCodec(), VoiceChannelCodec(), LinkCodec()])

    public subscript(name: String) -> (any ChannelCodec)? { self.codecs[name] }
}
