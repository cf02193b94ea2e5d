/// Limits on connections themselves, before any request is read: how long a client may take to send a request head
/// or its first WebSocket message, how large a request head may be, how much a connection that has not logged in may
/// make the server hold, and how many connections one source address, and all connections not yet logged in, may
/// keep open. ``ConnectionGuard`` and ``ConnectionLimiter`` apply them; `docs/PROTOCOL.md` lists them.
public struct ConnectionLimits: Sendable, Hashable {
    /// How long a request head may take from its first byte, how long a new connection (or a kept-alive one after its
    /// last response) may stay silent, and how long an upgraded WebSocket may wait before its first message.
    /// An unfinished head then gets 408 and is closed; a silent connection is closed (a WebSocket with 1008).
    public var requestHeadTimeout: Duration = .seconds(10)
    /// The longest request line (method, target and version); longer gets 414.
    public var maxRequestLineBytes = 8 << 10
    /// The largest request head (request line and header fields); larger gets 431.
    public var maxRequestHeadBytes = 32 << 10
    /// The most header fields in one request; more gets 431.
    public var maxHeaderFields = 100
    /// The largest WebSocket frame or message (all its fragments) a connection may send before it has logged in
    /// (`register` is the largest handshake message); larger closes it with 1009. After login the limit is
    /// ``ServerConfiguration/maxFrameBytes``.
    public var maxMessageBytesBeforeLogin = 8 << 10
    /// Connections open at once from one source address (the peer's IP; loopback included). A connection over it
    /// gets 503 and is closed. Connections from a trusted proxy are not counted against the proxy's address.
    public var maxConnectionsPerAddress = 64
    /// Connections open at once that have not logged in (plain HTTP requests and WebSockets before login). Over it,
    /// new connections get 503, so that descriptors stay available for members' connections.
    public var maxConnectionsBeforeLogin = 512
    /// After the server refuses a request or fails a WebSocket, how long it keeps reading (and discarding) what the
    /// client still sends, so the answer is read before the socket is closed.
    public var lingerTimeout: Duration = .seconds(2)

    public init() {}
}
