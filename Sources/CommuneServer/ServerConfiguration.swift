import CommuneCore
import CommuneSQLite
import CommuneWebClient
import Foundation

/// How a Commune server runs. A `Sendable` value with defaults for a zero-configuration start.
public struct ServerConfiguration: Sendable {
    /// The address to listen on. Loopback by default: put a TLS proxy in front to expose a community.
    public var host: String = "127.0.0.1"
    /// The port for HTTP and WebSocket alike; 0 picks a free one.
    public var port: Int = 1984
    /// The data folder's default path, relative to the working directory (`commune serve` and the administration
    /// commands share it).
    public static let defaultDataPath = "commune-data"
    /// The data folder: the SQLite database and the uploaded attachments.
    public var dataDirectory: URL = URL(fileURLWithPath: Self.defaultDataPath)
    /// What an acknowledged message survives: `.normal` (default) a crash of the server process, `.full` a power
    /// loss too, at the cost of a disk flush per commit (see `Durability`).
    public var durability: Durability = .normal
    /// The folder of the web client's static files; `nil` serves the WebSocket protocol only.
    public var webRoot: URL? = WebClient.bundledRoot
    /// The base URL that invites point at (`https://chat.example.org`). Default: `http://HOST:PORT`.
    public var publicURL: String?
    /// The largest WebSocket frame or message accepted at all; bigger closes the connection (1009).
    public var maxFrameBytes: Int = 1 << 20
    /// The largest request answered normally; bigger gets `too_large`.
    public var maxRequestBytes: Int = 64 << 10
    /// How long a connection may stay open without logging in.
    public var loginTimeout: Duration = .seconds(60)
    /// Failed requests in a row before the connection is closed.
    public var maxConsecutiveErrors: Int = 10
    /// Bytes that may wait in one connection's outbound queue before it is dropped as a slow consumer.
    public var outboundQueueLimitBytes: Int = 8 << 20
    /// How many of the newest updates are kept for members who reconnect and resume (``UpdateLog``), and at most
    /// how many bytes of them; a resume from further back is told to refetch.
    public var resumeWindowUpdates: Int = 10_000
    public var resumeWindowBytes: Int = 16 << 20
    /// Under load, how long frames may gather before they are written (one `writev` per connection per round
    /// instead of one system call per frame). An idle server writes at once.
    public var flushInterval: Duration = .milliseconds(1)
    /// How often freed heap is given back to the kernel (Linux).
    public var heapTrimPeriod: Duration = .seconds(10)
    /// WebSocket ping period; a connection that misses a pong for a period is closed.
    public var pingInterval: Duration = .seconds(30)
    /// How long a closing connection may take to answer the close frame (on shutdown too) before it is dropped.
    public var closeTimeout: Duration = .seconds(10)
    /// On a graceful shutdown, how long `/readyz` answers 503 before connections are closed and the port stops
    /// accepting: time for a load balancer's health checks to take this node out first.
    public var shutdownDelay: Duration = .zero
    /// How long `/readyz` waits for the store's trivial read before it answers 503.
    public var readinessTimeout: Duration = .seconds(2)
    /// The bearer token that lets a client other than this machine read `/metrics`; `nil`: loopback only.
    public var metricsToken: String?
    /// Limits on connections: request head timeouts and sizes, what a connection may send before login, and how
    /// many connections one address, and all those not logged in, may keep open (see ``ConnectionLimits``).
    public var connectionLimits = ConnectionLimits()
    /// Rate limits per connection, member and source address; `nil` turns them off (for load tests only).
    public var rateLimits: RateLimits? = RateLimits()
    /// Addresses of reverse proxies whose `X-Forwarded-For` names the client (`127.0.0.1` when a TLS proxy on the
    /// same machine forwards to Commune). Connections from other addresses are limited by their own address.
    public var trustedProxies: Set<String> = []
    /// The channel codecs and community features this server offers (add a codec with
    /// `CodecRegistry.standard.adding(MyCodec())`).
    public var codecs: CodecRegistry = .standard
    /// Voice calls: mesh or through the SFU, and the STUN/TURN servers members use.
    public var voice = VoiceConfiguration()
    /// The community's own limits (message length, page size, challenge lifetime).
    public var community = CommunityConfiguration()

    public init() {}

    /// The base URL invites use, given the port actually bound.
    public func baseURL(boundPort: Int) -> String {
        if let publicURL, !publicURL.isEmpty {
            var url = publicURL
            while url.hasSuffix("/") { url.removeLast() }
            return url
        }
        let host = self.host == "0.0.0.0" || self.host == "::" ? "127.0.0.1" : self.host
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "http://\(shownHost):\(boundPort)"
    }
}
