import CommuneCore
import CommuneProtocol
import Logging
import ServiceLifecycle
import Synchronization

/// Calls through Janus's VideoRoom (mode `sfu`): one room per voice channel while it has a call, created on the
/// first join and destroyed when the last member leaves; each admission gets a join token of its own in the room's
/// `allowed` list (never shown to the browser), revoked when the member leaves, with their publishers kicked. Each
/// call socket's session publishes the member's voice (and camera and screen) and keeps one subscription to the
/// others' voices and cameras and the shares they watch.
///
/// Everything is keyed by the ticket's secret, not the member: a member who re-joins from another device holds a
/// new ticket while the old one is dismissed. Janus is kept running by ``JanusSupervisor`` (this type's
/// `run()`); while it is down, ``isAvailable`` is false.
final class JanusCalls: CallBackend, Service {
    let sockets: CallSockets
    let events: CallEvents
    let ice: ICEProvider?
    let maxMembersPerCall: Int
    let adminKey: String
    let logger: Logger
    private let launch: JanusSupervisor.Launch

    /// A stream a member publishes.
    struct Feed: Sendable {
        var id: String
        var ticket: CallTicket
        var kind: VideoRoom.StreamKind
        var handle: Int64
        /// The audio stream's `mid` (what `moderate` mutes).
        var audioMid: String?
        /// Janus has the media (`webrtcup`): others can subscribe.
        var live = false
        /// Janus confirmed it stopped forwarding the audio (`moderate`).
        var audioMuted = false
    }

    private struct Admission {
        var ticket: CallTicket
        var token: String
        var serverMuted: Bool
        var session: JanusCallSession?
    }

    private struct State {
        var client: JanusClient?
        /// The handle room administration goes through.
        var manager: Int64 = 0
        var pid: Int32?
        var rooms: [Int64: VideoRoom.Room] = [:]
        var creating: [Int64: Task<Result<VideoRoom.Room, JanusError>, Never>] = [:]
        /// Rooms being destroyed (their call's last member left); a new room for the channel waits for it.
        var destroying: [Int64: Task<Void, Never>] = [:]
        /// Admissions under way per channel: their room is not destroyed under them.
        var admitting: [Int64: Int] = [:]
        var admissions: [String: Admission] = [:]
        var feeds: [String: Feed] = [:]
        /// Janus handle → the secret of the session that owns it.
        var handles: [Int64: String] = [:]
    }

    private let state = Mutex(State())

    init(
        sockets: CallSockets, events: CallEvents, ice: ICEProvider?, maxMembersPerCall: Int, adminKey: String, launch: JanusSupervisor.Launch,
        logger: Logger
    ) {
        self.sockets = sockets
        self.events = events
        self.ice = ice
        self.maxMembersPerCall = maxMembersPerCall
        self.adminKey = adminKey
        self.launch = launch
        self.logger = logger
    }

    var mode: CallMode { .sfu }
    var isAvailable: Bool { self.state.withLock { $0.client != nil } }
    /// The running Janus child's pid (`nil` for an external Janus or while it is down).
    var janusPID: Int32? { self.state.withLock { $0.pid } }

    func run() async throws {
        try await JanusSupervisor(calls: self, launch: self.launch, logger: self.logger).run()
    }

    func iceConfiguration(for member: UUIDString) -> ICEConfiguration {
        self.ice?.configuration(for: member) ?? ICEConfiguration(servers: [])
    }

    // MARK: Janus's connection

    /// Takes calls over `client` until its connection closes, routing Janus's pushes to the sessions that own
    /// their handles.
    func serve(_ client: JanusClient, pid: Int32?) async {
        let manager: Int64
        do {
            manager = try await client.attach()
        } catch {
            self.logger.error("Voice: attaching to Janus's VideoRoom failed: \(error)")
            return
        }
        self.state.withLock { state in
            state.client = client
            state.manager = manager
            state.pid = pid
        }
        for await value in client.events {
            let event = JanusEvent(value)
            guard let handle = event.handle,
                let session = self.state.withLock({ state in state.handles[handle].flatMap { state.admissions[$0]?.session } })
            else { continue }
            await session.handle(event, on: handle)
        }
    }

    /// Janus is gone: forget its rooms and handles; with `endingCalls`, every call ends (`media_restarted`).
    func lost(endingCalls: Bool) async {
        self.state.withLock { state in
            state = State()
        }
        if endingCalls {
            self.events.publish(await self.events.community.endAllCalls(reason: .mediaRestarted))
        }
    }

    private func connection() throws(CommuneError) -> (JanusClient, Int64) {
        guard let (client, manager) = self.state.withLock({ state in state.client.map { ($0, state.manager) } }) else {
            throw .init(.voiceUnavailable, "Voice is restarting on this server; try again in a few seconds.")
        }
        return (client, manager)
    }

    // MARK: CallMedia

    func admit(_ ticket: CallTicket, serverMuted: Bool) async throws(CommuneError) {
        let (client, manager) = try self.connection()
        self.state.withLock { $0.admitting[ticket.channel, default: 0] += 1 }
        defer {
            self.state.withLock { state in
                state.admitting[ticket.channel, default: 1] -= 1
                if state.admitting[ticket.channel] == 0 { state.admitting[ticket.channel] = nil }
            }
        }
        do {
            let room = try await self.room(for: ticket.channel, client: client, manager: manager)
            let token = RandomToken.make(length: 43)
            _ = try await client.message(manager, VideoRoom.allowed(room, "add", tokens: [token]))
            self.state.withLock { state in
                guard state.client === client else { return }
                state.admissions[ticket.secret] = Admission(ticket: ticket, token: token, serverMuted: serverMuted)
            }
        } catch {
            self.logger.error("Voice: admitting a member to a call failed: \(error)")
            throw error.commune
        }
    }

    /// Ends a member's admission: their token is revoked and their publishers kicked, or, when they were the
    /// call's last member, the room is destroyed (Janus drops everyone in it; the next join makes a new one).
    func dismiss(_ ticket: CallTicket, reason: CallEndReason) async {
        let (admission, feeds, connection, room, destroyed) = self.state.withLock { state in
            let admission = state.admissions.removeValue(forKey: ticket.secret)
            let feeds = state.feeds.values.filter { $0.ticket.secret == ticket.secret }
            for feed in feeds { state.feeds[feed.id] = nil }
            let connection = state.client.map { ($0, state.manager) }
            var destroyed: Task<Void, Never>?
            if admission != nil, let (client, manager) = connection, let room = state.rooms[ticket.channel],
                state.admitting[ticket.channel] == nil, !state.admissions.values.contains(where: { $0.ticket.channel == ticket.channel })
            {
                state.rooms[ticket.channel] = nil
                let previous = state.destroying[ticket.channel]
                let task = Task {
                    await previous?.value
                    do {
                        _ = try await client.message(manager, VideoRoom.destroy(room))
                    } catch {
                        self.logger.warning("Voice: destroying the room of a call that ended failed: \(error)")
                    }
                }
                state.destroying[ticket.channel] = task
                destroyed = task
            }
            return (admission, feeds, connection, state.rooms[ticket.channel], destroyed)
        }
        if let destroyed {
            await destroyed.value
        } else if let admission, let (client, manager) = connection, let room {
            do {
                _ = try await client.message(manager, VideoRoom.allowed(room, "remove", tokens: [admission.token]))
            } catch {
                self.logger.error("Voice: revoking a member's Janus token failed: \(error)")
            }
            for feed in feeds {
                _ = try? await client.message(manager, VideoRoom.kick(room, feed: feed.id))
            }
        }
        await admission?.session?.stop()
        self.sockets.end(ticket, reason: reason)
        if feeds.contains(where: \.live) { self.feedsChanged(in: ticket.channel) }
    }

    func setServerMuted(_ muted: Bool, for ticket: CallTicket) async {
        let target = self.state.withLock { state -> (VideoRoom.Room, Feed, JanusClient, Int64)? in
            state.admissions[ticket.secret]?.serverMuted = muted
            guard let client = state.client, let room = state.rooms[ticket.channel],
                let feed = state.feeds.values.first(where: { $0.ticket.secret == ticket.secret && $0.kind == .voice })
            else { return nil }
            return (room, feed, client, state.manager)
        }
        guard let (room, feed, client, manager) = target else { return }
        await self.moderate(feed, muted: muted, room: room, client: client, manager: manager)
    }

    /// Applies server mute to `feed`'s audio.
    func moderate(_ feed: Feed, muted: Bool, room: VideoRoom.Room, client: JanusClient, manager: Int64? = nil) async {
        guard let mid = feed.audioMid else { return }
        let handle = manager ?? self.state.withLock { $0.manager }
        do {
            _ = try await client.message(handle, VideoRoom.moderate(room, feed: feed.id, mid: mid, mute: muted))
            self.state.withLock { $0.feeds[feed.id]?.audioMuted = muted }
        } catch {
            self.logger.error("Voice: server mute through Janus failed: \(error)")
        }
    }

    func openSession(for participant: CallParticipant, socket: CallSocket) async throws(CommuneError) -> any CallSession {
        let (client, _) = try self.connection()
        let ticket = participant.ticket
        let opened = self.state.withLock { state -> (JanusCallSession, JanusCallSession?)? in
            guard state.client === client, var admission = state.admissions[ticket.secret], let room = state.rooms[ticket.channel] else { return nil }
            let session = JanusCallSession(calls: self, client: client, room: room, token: admission.token, socket: socket)
            let previous = admission.session
            admission.session = session
            state.admissions[ticket.secret] = admission
            return (session, previous)
        }
        guard let (session, previous) = opened else {
            throw .init(.voiceUnavailable, "Voice restarted on this server; join the call again.")
        }
        await previous?.stop()
        self.sockets.add(socket)
        let peers = self.events.community.calls.participants(in: ticket.channel).keys.filter { $0 != participant.member }
        socket.send(
            "ready", ["mode": .string(CallMode.sfu.rawValue), "user_id": .string(participant.member.value), "peers": .array(peers.map { .string($0.value) })]
        )
        await session.sync()
        return session
    }

    // MARK: What sessions share

    /// The room of `channel`, created on first use.
    private func room(for channel: Int64, client: JanusClient, manager: Int64) async throws(JanusError) -> VideoRoom.Room {
        enum Lookup { case ready(VideoRoom.Room), pending(Task<Result<VideoRoom.Room, JanusError>, Never>) }
        let lookup = self.state.withLock { state -> Lookup in
            if let room = state.rooms[channel] { return .ready(room) }
            if let task = state.creating[channel] { return .pending(task) }
            let destroying = state.destroying[channel]
            let task = Task {
                await destroying?.value
                return await self.createRoom(for: channel, client: client, manager: manager)
            }
            state.creating[channel] = task
            return .pending(task)
        }
        switch lookup {
        case .ready(let room): return room
        case .pending(let task): return try await task.value.get()
        }
    }

    private func createRoom(for channel: Int64, client: JanusClient, manager: Int64) async -> Result<VideoRoom.Room, JanusError> {
        let room = VideoRoom.Room(channel: channel, adminKey: self.adminKey)
        let create = VideoRoom.create(room, adminKey: self.adminKey, maxMembers: self.maxMembersPerCall)
        let result: Result<VideoRoom.Room, JanusError>
        do {
            do {
                _ = try await client.message(manager, create)
            } catch where error.code == 427 {
                // An operator-run Janus still has it from before this server started: start it afresh.
                _ = try await client.message(manager, VideoRoom.destroy(room))
                _ = try await client.message(manager, create)
            }
            result = .success(room)
        } catch {
            result = .failure(error)
        }
        self.state.withLock { state in
            guard state.client === client else { return }
            state.creating[channel] = nil
            if case .success = result { state.rooms[channel] = room }
        }
        return result
    }

    func register(handle: Int64, for secret: String) {
        self.state.withLock { $0.handles[handle] = secret }
    }

    func unregister(handle: Int64) {
        self.state.withLock { $0.handles[handle] = nil }
    }

    /// A publisher joined and configured: its feed is known (not live until Janus has its media; a renegotiated
    /// feed stays live, since Janus says `webrtcup` only once per publisher). Returns whether the member is
    /// server-muted now.
    func published(_ feed: Feed) -> Bool {
        self.state.withLock { state in
            guard state.admissions[feed.ticket.secret] != nil else { return false }
            var feed = feed
            if let was = state.feeds[feed.id] {
                feed.live = was.live
                feed.audioMuted = was.audioMuted
            }
            state.feeds[feed.id] = feed
            return state.admissions[feed.ticket.secret]?.serverMuted ?? false
        }
    }

    /// Janus has the media of `feed` (`webrtcup`): the member is connected, others subscribe to it.
    func feedLive(_ id: String) {
        guard let feed = self.state.withLock({ state -> Feed? in
            guard state.feeds[id]?.live == false else { return nil }
            state.feeds[id]?.live = true
            return state.feeds[id]
        }) else { return }
        if feed.kind == .voice { self.events.mediaChanged(feed.ticket, connected: true) }
        self.feedsChanged(in: feed.ticket.channel)
    }

    /// `feed` stopped (unpublished, hung up, or its session closed).
    func feedGone(_ id: String) {
        guard let feed = self.state.withLock({ $0.feeds.removeValue(forKey: id) }) else { return }
        if feed.live { self.feedsChanged(in: feed.ticket.channel) }
    }

    /// The live feeds the holder of `secret` receives in `channel`: every other member's voice and camera, and the
    /// screens of the members in `watching`.
    func wantedFeeds(in channel: Int64, for secret: String, watching: Set<UUIDString>) -> [String: Feed] {
        self.state.withLock { state in
            state.feeds.filter { _, feed in
                feed.live && feed.ticket.channel == channel && feed.ticket.secret != secret
                    && (feed.kind != .screen || watching.contains(feed.ticket.member))
            }
        }
    }

    /// Whether `member` shares a screen in the call of `channel` now.
    func isSharing(_ member: UUIDString, in channel: Int64) -> Bool {
        self.state.withLock { state in
            state.feeds.values.contains { $0.live && $0.kind == .screen && $0.ticket.member == member && $0.ticket.channel == channel }
        }
    }

    /// What `channel`'s sessions receive changed: each brings its subscription up to date.
    private func feedsChanged(in channel: Int64) {
        let sessions = self.state.withLock { state in
            state.admissions.values.filter { $0.ticket.channel == channel }.compactMap(\.session)
        }
        for session in sessions {
            Task { await session.sync() }
        }
    }

    /// The Janus join token of the admission holding `secret` (never sent to a client).
    func token(secret: String) -> String? {
        self.state.withLock { $0.admissions[secret]?.token }
    }

    /// The feed the holder of `secret` publishes as `kind`.
    func feed(secret: String, kind: VideoRoom.StreamKind) -> Feed? {
        self.state.withLock { state in state.feeds.values.first { $0.ticket.secret == secret && $0.kind == kind } }
    }

    /// The session closed (its handles are detached).
    func sessionClosed(_ session: JanusCallSession, secret: String) {
        self.state.withLock { state in
            if state.admissions[secret]?.session === session { state.admissions[secret]?.session = nil }
        }
    }
}

/// A push from Janus: its kind (`webrtcup`, `media`, `hangup`, `event`, …), the handle it concerns, and for plugin
/// events their data and SDP.
struct JanusEvent: Sendable {
    var janus: String
    var handle: Int64?
    var data: [String: JSONValue]
    var jsep: JSONValue?
    var value: JSONValue

    init(_ value: JSONValue) {
        self.value = value
        self.janus = value["janus"]?.stringValue ?? ""
        self.handle = value["sender"]?.intValue
        self.data = value["plugindata"]?["data"]?.objectValue ?? [:]
        self.jsep = value["jsep"]
    }
}
