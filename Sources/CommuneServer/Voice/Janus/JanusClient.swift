import CommuneProtocol
import Logging
import Synchronization

/// A Janus session on one ``JanusConnection``: handles attached to the VideoRoom plugin, plugin requests on them,
/// and a keepalive every 25 s (Janus drops a session that says nothing for 60 s). Commune is Janus's only API
/// client: every request carries the `api_secret`.
final class JanusClient: Sendable {
    static let videoRoomPlugin = "janus.plugin.videoroom"
    /// How long any request may take, an SDP negotiation included.
    static let requestTimeout: Duration = .seconds(10)
    static let keepaliveInterval: Duration = .seconds(25)

    let connection: JanusConnection
    let sessionID: Int64
    private let apiSecret: String?
    private let keepalive = Mutex<Task<Void, Never>?>(nil)

    /// What a plugin answered: its `plugindata.data`, and the SDP it sent (`jsep`), if any.
    struct Reply: Sendable {
        var data: [String: JSONValue]
        var jsep: JSONValue?
    }

    private init(connection: JanusConnection, sessionID: Int64, apiSecret: String?) {
        self.connection = connection
        self.sessionID = sessionID
        self.apiSecret = apiSecret
    }

    /// Connects to Janus at `url` and creates a session.
    static func open(url: String, apiSecret: String?, logger: Logger) async throws(JanusError) -> JanusClient {
        let connection = try await JanusConnection.connect(url: url, logger: logger)
        do throws(JanusError) {
            let created = try await connection.request(Self.signed(["janus": "create"], apiSecret: apiSecret), timeout: Self.requestTimeout)
            guard let id = created["data"]?["id"]?.intValue else { throw JanusError.refused(code: 0, reason: "create answered no session id") }
            let client = JanusClient(connection: connection, sessionID: id, apiSecret: apiSecret)
            client.startKeepalive(logger: logger)
            return client
        } catch {
            connection.close()
            throw error
        }
    }

    /// Janus's pushes for this session (see ``JanusEvent``).
    var events: AsyncStream<JSONValue> { self.connection.events }

    var isClosed: Bool { self.connection.isClosed }

    /// Attaches a new VideoRoom handle.
    func attach() async throws(JanusError) -> Int64 {
        let reply = try await self.request(["janus": "attach", "plugin": .string(Self.videoRoomPlugin)])
        guard let id = reply["data"]?["id"]?.intValue else { throw .refused(code: 0, reason: "attach answered no handle id") }
        return id
    }

    /// Detaches `handle` (its PeerConnection and its place in a room go with it); errors are ignored.
    func detach(_ handle: Int64) async {
        _ = try? await self.request(["janus": "detach", "handle_id": .int(handle)])
    }

    /// A plugin request on `handle`. Asynchronous VideoRoom requests (`join`, `configure`, `publish`, `start`,
    /// `subscribe`, `unsubscribe`, `update`, `unpublish`, `leave`) wait for their event; a plugin error is thrown.
    func message(_ handle: Int64, _ body: [String: JSONValue], jsep: JSONValue? = nil) async throws(JanusError) -> Reply {
        var message: [String: JSONValue] = ["janus": "message", "handle_id": .int(handle), "body": .object(body)]
        if let jsep { message["jsep"] = jsep }
        let request = body["request"]?.stringValue ?? ""
        let reply = try await self.request(message, waitForEvent: Self.asynchronousRequests.contains(request))
        let data = reply["plugindata"]?["data"]?.objectValue ?? [:]
        if let code = data["error_code"]?.intValue {
            throw .refused(code: code, reason: data["error"]?.stringValue ?? "")
        }
        return Reply(data: data, jsep: reply["jsep"])
    }

    private static let asynchronousRequests: Set<String> = [
        "join", "joinandconfigure", "configure", "publish", "unpublish", "start", "pause", "switch", "subscribe", "unsubscribe", "update", "leave",
    ]

    /// Destroys the session and closes the connection.
    func close() async {
        self.keepalive.withLock { $0?.cancel() }
        _ = try? await self.request(["janus": "destroy"], timeout: .seconds(2))
        self.connection.close()
    }

    private func request(
        _ message: [String: JSONValue], waitForEvent: Bool = false, timeout: Duration = JanusClient.requestTimeout
    ) async throws(JanusError) -> JSONValue {
        var message = message
        message["session_id"] = .int(self.sessionID)
        return try await self.connection.request(Self.signed(message, apiSecret: self.apiSecret), waitForEvent: waitForEvent, timeout: timeout)
    }

    private static func signed(_ message: [String: JSONValue], apiSecret: String?) -> [String: JSONValue] {
        var message = message
        if let apiSecret { message["apisecret"] = .string(apiSecret) }
        return message
    }

    private func startKeepalive(logger: Logger) {
        let task = Task {
            while !Task.isCancelled, !self.connection.isClosed {
                do { try await Task.sleep(for: Self.keepaliveInterval) } catch { return }
                do {
                    _ = try await self.request(["janus": "keepalive"])
                } catch {
                    logger.warning("Janus did not answer a keepalive (\(error)); dropping the connection")
                    self.connection.close()
                    return
                }
            }
        }
        self.keepalive.withLock { $0 = task }
    }
}
