import CommuneProtocol
import Crypto
import Foundation

/// The VideoRoom requests Commune makes, in one place (Janus 1.1's VideoRoom API, with `string_ids`).
enum VideoRoom {
    /// What a member publishes, each as a publisher of its own: their microphone, their camera, a screen share.
    /// Everyone in the call receives the others' voices and cameras; a screen only those who watch it.
    enum StreamKind: String, Sendable, Hashable, CaseIterable {
        case voice, camera, screen
    }

    /// The most a video publisher may send (bit/s, held down by Janus's REMB, `bitrate_cap`): a screen share's.
    static let videoBitrateCap: Int64 = 1_500_000
    /// A camera's, below the cap: each member receives every other member's camera.
    static let cameraBitrate: Int64 = 500_000

    /// A voice channel's room: its id and the secret that gates `kick`, `moderate`, `allowed` and `destroy`.
    struct Room: Sendable, Hashable {
        var id: String
        var secret: String

        /// `commune-<channel id>`, its secret derived from the admin key (so that a restarted Commune can take
        /// back a room an operator-run Janus still has).
        init(channel: Int64, adminKey: String) {
            self.id = "commune-\(channel)"
            let mac = HMAC<SHA256>.authenticationCode(for: Data(self.id.utf8), using: SymmetricKey(data: Data(adminKey.utf8)))
            self.secret = Data(mac).base64EncodedString()
        }
    }

    /// Talking events: Janus averages the audio level (-dBov, 127 is silence) the browser puts in each packet over
    /// windows of `audio_active_packets` packets (20 ms each) and says talking when a window averages louder than
    /// `audio_level_average`, stopped talking when one does not. 15 packets: the ring follows speech within ~0.3 s;
    /// 60: speech at ordinary microphone levels (-10 to -40 dBov with pauses between words) counts, a noise-suppressed
    /// quiet room (-70 and below) does not. Janus's defaults (100 packets, 25) are 2 s late and need shouting.
    static let audioActivePackets: Int64 = 15
    static let audioLevelAverage: Int64 = 60

    static func create(_ room: Room, adminKey: String, maxMembers: Int) -> [String: JSONValue] {
        [
            "request": "create", "admin_key": .string(adminKey), "room": .string(room.id), "secret": .string(room.secret),
            "description": .string(room.id), "is_private": true, "permanent": false,
            // Each member may publish their voice, a camera and a screen.
            "publishers": .int(Int64(maxMembers * StreamKind.allCases.count)),
            "bitrate": .int(Self.videoBitrateCap), "bitrate_cap": true,
            "audiocodec": "opus", "videocodec": "vp8,vp9,h264",
            "audiolevel_event": true, "audio_active_packets": .int(Self.audioActivePackets), "audio_level_average": .int(Self.audioLevelAverage),
            "allowed": [], "notify_joining": false,
        ]
    }

    /// Whether the room exists (`exists: true|false` in the answer).
    static func exists(_ room: Room) -> [String: JSONValue] {
        ["request": "exists", "room": .string(room.id)]
    }

    static func destroy(_ room: Room) -> [String: JSONValue] {
        ["request": "destroy", "room": .string(room.id), "secret": .string(room.secret), "permanent": false]
    }

    /// Adds (`add`) or removes (`remove`) join tokens of the room's `allowed` list.
    static func allowed(_ room: Room, _ action: String, tokens: [String]) -> [String: JSONValue] {
        ["request": "allowed", "room": .string(room.id), "secret": .string(room.secret), "action": .string(action), "allowed": .array(tokens.map(JSONValue.string))]
    }

    static func kick(_ room: Room, feed: String) -> [String: JSONValue] {
        ["request": "kick", "room": .string(room.id), "secret": .string(room.secret), "id": .string(feed)]
    }

    /// Stops (or resumes) forwarding the stream `mid` of `feed` to every subscriber.
    static func moderate(_ room: Room, feed: String, mid: String, mute: Bool) -> [String: JSONValue] {
        ["request": "moderate", "room": .string(room.id), "secret": .string(room.secret), "id": .string(feed), "mid": .string(mid), "mute": .bool(mute)]
    }

    static func joinPublisher(_ room: Room, feed: String, display: String, token: String) -> [String: JSONValue] {
        ["request": "join", "ptype": "publisher", "room": .string(room.id), "id": .string(feed), "display": .string(display), "token": .string(token)]
    }

    /// Publishes (or renegotiates) `kind` with the offer sent alongside; a camera at ``cameraBitrate``.
    static func configure(_ kind: StreamKind) -> [String: JSONValue] {
        kind == .camera ? ["request": "configure", "bitrate": .int(Self.cameraBitrate)] : ["request": "configure"]
    }

    static func joinSubscriber(_ room: Room, feeds: [String], token: String) -> [String: JSONValue] {
        ["request": "join", "ptype": "subscriber", "room": .string(room.id), "token": .string(token), "streams": .array(feeds.map { ["feed": .string($0)] })]
    }

    static func update(subscribe: [String], unsubscribe: [String]) -> [String: JSONValue] {
        var body: [String: JSONValue] = ["request": "update"]
        if !subscribe.isEmpty { body["subscribe"] = .array(subscribe.map { ["feed": .string($0)] }) }
        if !unsubscribe.isEmpty { body["unsubscribe"] = .array(unsubscribe.map { ["feed": .string($0)] }) }
        return body
    }

    static let start: [String: JSONValue] = ["request": "start"]
}
