import CommuneCore
import CommuneProtocol
import Logging

/// One call socket in an `sfu` call: the member's publishers (voice, and a camera and a screen while they are on),
/// each a VideoRoom handle joined with the admission's token, and one subscriber handle receiving the others'
/// voices and cameras and the shares the member watches. Subscription changes are one at a time: a new `offer` is
/// made only once the previous one was answered.
actor JanusCallSession: CallSession {
    private let calls: JanusCalls
    private let client: JanusClient
    private let room: VideoRoom.Room
    private let token: String
    let socket: CallSocket

    private var publishers: [VideoRoom.StreamKind: (handle: Int64, feed: String)] = [:]
    private var subscriber: Int64?
    /// The feeds in the subscription, with whose stream each is.
    private var subscribed: [String: JanusCalls.Feed] = [:]
    private var watching: Set<UUIDString> = []
    private var awaitingAnswer = false
    private var syncing = false
    private var needsSync = false
    private var stopped = false

    init(calls: JanusCalls, client: JanusClient, room: VideoRoom.Room, token: String, socket: CallSocket) {
        self.calls = calls
        self.client = client
        self.room = room
        self.token = token
        self.socket = socket
    }

    private var ticket: CallTicket { self.socket.ticket }

    func receive(_ type: String, _ data: PayloadReader) async throws(CommuneError) {
        guard !self.stopped else { throw .init(.voiceUnavailable, "This call socket's session has ended.") }
        switch type {
        case "publish": try await self.publish(try Self.kind(data), jsep: try Self.jsep(data, type: "offer"))
        case "unpublish":
            let kind = try Self.kind(data)
            guard kind != .voice else { throw .invalidArgument("Only a camera or a screen share can be unpublished; leave the call to stop your voice.") }
            await self.unpublish(kind)
        case "answer": try await self.answer(try Self.jsep(data, type: "answer"))
        case "watch":
            let member = try data.uuid("user_id")
            guard self.calls.isSharing(member, in: self.ticket.channel) else { throw .notFound("Member \(member) is not sharing a screen in this call.") }
            self.watching.insert(member)
            await self.sync()
        case "unwatch":
            self.watching.remove(try data.uuid("user_id"))
            await self.sync()
        default:
            throw .invalidArgument("An sfu call socket takes publish, unpublish, answer, watch and unwatch frames, not '\(type)'.")
        }
    }

    func closed() async {
        await self.stop()
    }

    /// Detaches every handle (the member's media stops; they stay in the call, `inactive`).
    func stop() async {
        guard !self.stopped else { return }
        self.stopped = true
        let handles = self.publishers.values.map(\.handle) + (self.subscriber.map { [$0] } ?? [])
        for (_, publisher) in self.publishers { self.calls.feedGone(publisher.feed) }
        self.publishers = [:]
        self.subscriber = nil
        self.subscribed = [:]
        self.calls.sessionClosed(self, secret: self.ticket.secret)
        for handle in handles {
            self.calls.unregister(handle: handle)
            await self.client.detach(handle)
        }
    }

    // MARK: Publishing

    private func publish(_ kind: VideoRoom.StreamKind, jsep: JSONValue) async throws(CommuneError) {
        let feed: String
        let handle: Int64
        let isNew = self.publishers[kind] == nil
        do {
            if let existing = self.publishers[kind] {
                (handle, feed) = existing
            } else {
                handle = try await self.client.attach()
                self.calls.register(handle: handle, for: self.ticket.secret)
                feed = "\(kind.rawValue)-\(RandomToken.make(length: 22))"
                self.publishers[kind] = (handle, feed)
                _ = try await self.client.message(handle, VideoRoom.joinPublisher(self.room, feed: feed, display: self.ticket.member.value, token: self.token))
            }
            let reply = try await self.client.message(handle, VideoRoom.configure(kind), jsep: jsep)
            guard let answer = reply.jsep else { throw JanusError.refused(code: 0, reason: "no answer to the offer") }
            let audioMid = reply.data["streams"]?.arrayValue?.first { $0["type"]?.stringValue == "audio" }?["mid"]?.stringValue
            let published = JanusCalls.Feed(id: feed, ticket: self.ticket, kind: kind, handle: handle, audioMid: audioMid)
            let serverMuted = self.calls.published(published)
            if kind == .voice, serverMuted { await self.calls.moderate(published, muted: true, room: self.room, client: self.client) }
            self.socket.send("answer", ["kind": .string(kind.rawValue), "jsep": answer])
        } catch {
            if isNew, let publisher = self.publishers[kind] {
                // A refused first offer leaves no publisher behind: the member may try again with a new one.
                self.publishers[kind] = nil
                self.calls.feedGone(publisher.feed)
                self.calls.unregister(handle: publisher.handle)
                await self.client.detach(publisher.handle)
            }
            throw Self.refusal(error)
        }
    }

    private func unpublish(_ kind: VideoRoom.StreamKind) async {
        guard let publisher = self.publishers.removeValue(forKey: kind) else { return }
        self.calls.feedGone(publisher.feed)
        self.calls.unregister(handle: publisher.handle)
        await self.client.detach(publisher.handle)
    }

    // MARK: Receiving

    /// Brings the subscription up to what the member should receive, sending a new `offer` when it changes.
    func sync() async {
        guard !self.syncing else {
            self.needsSync = true
            return
        }
        self.syncing = true
        defer { self.syncing = false }
        repeat {
            self.needsSync = false
            guard !self.stopped, !self.awaitingAnswer else { return }
            let wanted = self.calls.wantedFeeds(in: self.ticket.channel, for: self.ticket.secret, watching: self.watching)
            let adding = wanted.keys.filter { self.subscribed[$0] == nil }.sorted()
            let removing = self.subscribed.keys.filter { wanted[$0] == nil }.sorted()
            guard !adding.isEmpty || !removing.isEmpty else { return }
            do {
                let reply: JanusClient.Reply
                if let subscriber = self.subscriber {
                    reply = try await self.client.message(subscriber, VideoRoom.update(subscribe: adding, unsubscribe: removing))
                } else {
                    guard !adding.isEmpty else { return }
                    let handle = try await self.client.attach()
                    self.subscriber = handle
                    self.calls.register(handle: handle, for: self.ticket.secret)
                    reply = try await self.client.message(handle, VideoRoom.joinSubscriber(self.room, feeds: adding, token: self.token))
                }
                for id in removing { self.subscribed[id] = nil }
                for id in adding { self.subscribed[id] = wanted[id] }
                if let jsep = reply.jsep, !self.stopped {
                    self.awaitingAnswer = true
                    self.socket.send("offer", ["jsep": jsep, "streams": .array(self.streams(reply.data["streams"]))])
                }
            } catch {
                self.calls.logger.warning("Voice: updating a member's subscription failed: \(error)")
                return
            }
        } while self.needsSync
    }

    /// `streams` for the client: the subscription's active streams, with whose each is.
    private func streams(_ value: JSONValue?) -> [JSONValue] {
        (value?.arrayValue ?? []).compactMap { stream in
            guard stream["active"]?.boolValue != false, let mid = stream["mid"]?.stringValue, let feedID = stream["feed_id"]?.stringValue,
                let feed = self.subscribed[feedID]
            else { return nil }
            return ["mid": .string(mid), "user_id": .string(feed.ticket.member.value), "kind": .string(feed.kind.rawValue)]
        }
    }

    private func answer(_ jsep: JSONValue) async throws(CommuneError) {
        guard let subscriber = self.subscriber, self.awaitingAnswer else { throw .invalidArgument("No offer is waiting for an answer.") }
        // Janus may push its next offer (``offered(_:streams:)``) before `start` returns: that one waits for an
        // answer of its own.
        self.awaitingAnswer = false
        do {
            _ = try await self.client.message(subscriber, VideoRoom.start, jsep: jsep)
        } catch {
            self.awaitingAnswer = true
            throw Self.refusal(error)
        }
        await self.sync()
    }

    /// An offer Janus made by itself for the subscription: when a publisher in it went away (their streams turn
    /// inactive), or one it held back until the previous offer was answered. Janus waits for its answer before
    /// any other change, so the member gets it as any other `offer`.
    private func offered(_ jsep: JSONValue, streams: JSONValue?) {
        guard !self.stopped else { return }
        self.awaitingAnswer = true
        self.socket.send("offer", ["jsep": jsep, "streams": .array(self.streams(streams))])
    }

    // MARK: Janus's pushes

    func handle(_ event: JanusEvent, on handle: Int64) async {
        if handle == self.subscriber, event.janus == "event", let jsep = event.jsep, jsep["type"]?.stringValue == "offer" {
            self.offered(jsep, streams: event.data["streams"])
            return
        }
        let publisher = self.publishers.first { $0.value.handle == handle }
        switch event.janus {
        case "webrtcup":
            if let publisher { self.calls.feedLive(publisher.value.feed) }
        case "hangup":
            if let publisher {
                self.publishers[publisher.key] = nil
                self.calls.feedGone(publisher.value.feed)
                if publisher.key == .voice { self.calls.events.mediaChanged(self.ticket, connected: false) }
                self.calls.unregister(handle: handle)
                await self.client.detach(handle)
            } else if handle == self.subscriber {
                // The receiving connection failed: subscribe afresh (a new offer follows).
                self.subscriber = nil
                self.subscribed = [:]
                self.awaitingAnswer = false
                self.calls.unregister(handle: handle)
                await self.client.detach(handle)
                await self.sync()
            }
        case "event":
            guard let publisher, publisher.key == .voice, event.data["id"]?.stringValue == publisher.value.feed else { return }
            let level = event.data["audio-level-dBov-avg"]?.jsonString ?? "?"
            switch event.data["videoroom"]?.stringValue {
            case "talking":
                self.calls.logger.debug("Voice: Janus hears a member talking", metadata: ["member": "\(self.ticket.member)", "dBov": "\(level)"])
                self.calls.events.talking(self.ticket.member, true)
            case "stopped-talking":
                self.calls.logger.debug("Voice: Janus hears a member stop talking", metadata: ["member": "\(self.ticket.member)", "dBov": "\(level)"])
                self.calls.events.talking(self.ticket.member, false)
            default: break
            }
        default:
            break
        }
    }

    // MARK: Frames

    private static func kind(_ data: PayloadReader) throws(CommuneError) -> VideoRoom.StreamKind {
        let text = try data.string("kind")
        guard let kind = VideoRoom.StreamKind(rawValue: text) else { throw .invalidArgument("data.kind must be 'voice', 'camera' or 'screen', not '\(text)'.") }
        return kind
    }

    /// `data.jsep`: `{type, sdp}` with the expected type; passed to Janus as a complete (non-trickle) SDP.
    private static func jsep(_ data: PayloadReader, type: String) throws(CommuneError) -> JSONValue {
        let jsep = try data.object("jsep")
        guard try jsep.string("type") == type else { throw .invalidArgument("data.jsep.type must be '\(type)'.") }
        let sdp = try jsep.string("sdp")
        guard sdp.hasPrefix("v=0") else { throw .invalidArgument("data.jsep.sdp is not an SDP.") }
        return ["type": .string(type), "sdp": .string(sdp), "trickle": false]
    }

    /// What the member is told when Janus refuses: their SDP (`invalid_argument`) or the SFU (`voice_unavailable`).
    private static func refusal(_ error: any Error) -> CommuneError {
        if let error = error as? CommuneError { return error }
        guard let error = error as? JanusError else { return .internalError("\(error)") }
        if let code = error.code, [431, 437, 465].contains(code) { return .invalidArgument("The SFU refused the SDP: \(error)") }
        return error.commune
    }
}
