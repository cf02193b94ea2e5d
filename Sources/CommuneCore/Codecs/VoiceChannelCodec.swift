import CommuneProtocol

/// A voice channel (seeds 000/001 voice, 002 voice rooms): its call's members and their states in the tree
/// (`active_users`), joining and leaving, mute and deafen, devices, live streams; the media itself goes over the
/// call socket (`/ws/calls/`) to the server's ``CallMedia``.
public struct VoiceChannelCodec: ChannelCodec {
    public static let codecName = "voice"
    public let name = Self.codecName

    public static let joinCall = "join_call"
    public static let leaveCall = "leave_call"
    public static let setCallState = "set_call_state"
    public static let setDevices = "set_devices"
    public static let goLive = "go_live"
    public static let setTalking = "set_talking"
    public static let refreshICE = "refresh_ice"

    public static let callJoined = "call_joined"
    public static let callLeft = "call_left"
    public static let userChanged = "user_changed"
    public static let userLeft = "user_left"
    public static let callEnded = "call_ended"
    public static let talking = "talking"
    public static let iceServers = "ice_servers"

    /// Where the call socket is, relative to the community's address.
    public static let callSocketPath = "/ws/calls/"
    /// The longest `go_live` label, in code points.
    public static let maxLiveLabelLength = 64

    public init() {}

    public var functions: [FunctionSpec] {
        [
            FunctionSpec(TextFunction.setTopic), FunctionSpec(Self.joinCall), FunctionSpec(Self.leaveCall), FunctionSpec(Self.setCallState),
            FunctionSpec(Self.setDevices), FunctionSpec(Self.goLive), FunctionSpec(Self.setTalking), FunctionSpec(Self.refreshICE),
        ]
    }

    public var results: [String] {
        [
            TextFunction.topicChanged, Self.callJoined, Self.callLeft, Self.userChanged, Self.userLeft, Self.callEnded, Self.talking,
            Self.iceServers,
        ]
    }

    /// The seed's example tree has the voice channel `VC-1` in the category `General`.
    public var defaultNodes: [DefaultNode] { [DefaultNode(path: "General", name: "VC-1", position: 1)] }

    public func treeData(for node: Interactable, in community: Community) -> [String: JSONValue] {
        let participants = community.calls.participants(in: node.id)
        var users: [String: JSONValue] = [:]
        for (id, participant) in participants {
            users[id.value] = participant.json(serverMuted: community.member(id)?.suppressed ?? false)
        }
        return TopicFunctions.treeData(for: node).merging(["active_users": .object(users)]) { _, new in new }
    }

    public func perform(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect {
        let node = try call.interactable()
        switch call.function {
        case TextFunction.setTopic: return try await TopicFunctions.setTopic(call, on: node, codec: self, context: context)
        case Self.joinCall: return try await self.join(call, node: node, context: context)
        case Self.leaveCall: return try await self.leave(call, node: node, context: context)
        case Self.setCallState, Self.setDevices, Self.goLive, Self.setTalking: return try self.change(call, node: node, context: context)
        case Self.refreshICE: return try self.refreshICE(call, node: node, context: context)
        default: throw self.unknownFunction(call)
        }
    }

    /// The server's media, when it can take calls now.
    private func media(_ community: Community) throws(CommuneError) -> any CallMedia {
        guard let media = community.calls.media else {
            throw .init(.voiceUnavailable, "This server has no voice: it was started without a media server or mesh calls.")
        }
        guard media.isAvailable else {
            throw .init(.voiceUnavailable, "Voice is restarting on this server; try again in a few seconds.")
        }
        return media
    }

    /// `join_call {}`: enters the channel's call (leaving any other) and gets the call socket's secret and the ICE
    /// servers. The channel's viewers see the member as `inactive` until their call socket connects.
    func join(_ call: FunctionCall, node: Interactable, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        let media = try self.media(community)
        let member = context.member
        let calls = community.calls
        let ticket = calls.makeTicket(for: member.id, channel: node.id, connection: context.connection)
        try calls.checkRoom(for: member.id, in: node.id, maxMembers: media.maxMembersPerCall)
        try await media.admit(ticket, serverMuted: member.suppressed)
        let joined: CallParticipant
        let replaced: CallParticipant?
        do {
            (joined, replaced) = try calls.join(ticket, maxMembers: media.maxMembersPerCall)
        } catch {
            await media.dismiss(ticket, reason: .left)
            throw error
        }
        var updates: [Update] = []
        if let replaced {
            updates += await community.participantLeft(replaced, reason: .moved, tellConnection: replaced.ticket.connection != context.connection)
        }
        let ice = media.iceConfiguration(for: member.id)
        let reply = self.result(
            Self.callJoined, at: call.address,
            [
                "secret": .string(joined.ticket.secret),
                "socket": .string(Self.callSocketPath),
                "mode": .string(media.mode.rawValue),
                "max_members": .int(Int64(media.maxMembersPerCall)),
                "ice_servers": .array(ice.servers.map(\.json)),
                "ice_expires_at": ice.expiresAt.map(JSONValue.int) ?? .null,
                "user": joined.json(serverMuted: member.suppressed, withID: true),
            ]
        )
        updates += community.userChanged(joined).map { Update($0.result, to: $0.audience.excluding(context.connection)) }
        return Effect(reply: reply, updates: updates)
    }

    /// `leave_call {}`: leaves the channel's call; not being in it is not an error.
    func leave(_ call: FunctionCall, node: Interactable, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        let reply = self.result(Self.callLeft, at: call.address, ["user_id": .string(context.member.id.value)])
        guard community.calls.participant(context.member.id)?.ticket.channel == node.id,
            let left = community.calls.leave(context.member.id)
        else { return .reply(reply) }
        let tellOther = left.ticket.connection != context.connection
        let updates = await community.participantLeft(left, reason: tellOther ? .moved : .left, tellConnection: tellOther)
        return Effect(reply: reply, updates: updates.map { Update($0.result, to: $0.audience.excluding(context.connection)) })
    }

    /// `set_call_state {state}`, `set_devices {audio?, video?}`, `go_live {live, label?}` and `set_talking {talking}`:
    /// changes the caller's own participation; everyone who sees the channel gets `user_changed` (or `talking`).
    func change(_ call: FunctionCall, node: Interactable, context: FunctionContext) throws(CommuneError) -> Effect {
        let community = context.community
        let reader = try call.payload()
        guard let current = community.calls.participant(context.member.id), current.ticket.channel == node.id else {
            throw .init(.unexpectedMessage, "You are not in the call of '\(call.address)'; join_call first.")
        }
        var apply: (inout CallParticipant) -> Void
        switch call.function {
        case Self.setCallState:
            let raw = try reader.string("state")
            guard let state = CallParticipant.State(rawValue: raw), state != .inactive else {
                throw .invalidArgument("data.payload.state must be one of active, muted, deafened.")
            }
            apply = { $0.selfMuted = state != .active; $0.deafened = state == .deafened }
        case Self.setDevices:
            let audio = try reader.optionalBool("audio")
            let video = try reader.optionalBool("video")
            guard audio != nil || video != nil else { throw .invalidArgument("data.payload needs audio or video (booleans).") }
            apply = { participant in
                if let audio { participant.audio = audio }
                if let video { participant.video = video }
            }
        case Self.goLive:
            guard let live = try reader.optionalBool("live") else { throw .invalidArgument("data.payload.live is required (a boolean).") }
            let label = try TextPolicy.line(try reader.optionalString("label") ?? "", field: "data.payload.label")
            guard label.unicodeScalars.count <= Self.maxLiveLabelLength else {
                throw .init(.tooLarge, "The live label must be at most \(Self.maxLiveLabelLength) characters.")
            }
            apply = { $0.streaming = live; $0.liveLabel = live ? label : "" }
        default:
            guard community.calls.media?.mode == .mesh else {
                throw .invalidArgument("set_talking is for mesh calls only: in this server's calls the media server says who is talking.")
            }
            guard let talking = try reader.optionalBool("talking") else { throw .invalidArgument("data.payload.talking is required (a boolean).") }
            let updates = community.callTalking(member: context.member.id, talking: talking)
            let reply = self.result(Self.talking, at: call.address, ["user_id": .string(context.member.id.value), "talking": .bool(talking)])
            return Effect(reply: reply, updates: updates.map { Update($0.result, to: $0.audience.excluding(context.connection)) })
        }
        guard let changed = community.calls.update(context.member.id, apply) else {
            throw .init(.unexpectedMessage, "You are not in the call of '\(call.address)'; join_call first.")
        }
        let updates = community.userChanged(changed)
        let reply = self.result(Self.userChanged, at: call.address, changed.json(serverMuted: context.member.suppressed, withID: true))
        return Effect(reply: reply, updates: updates.map { Update($0.result, to: $0.audience.excluding(context.connection)) })
    }

    /// `refresh_ice {}`: new TURN credentials for the call the caller is in (before `ice_expires_at`).
    func refreshICE(_ call: FunctionCall, node: Interactable, context: FunctionContext) throws(CommuneError) -> Effect {
        let community = context.community
        let media = try self.media(community)
        guard community.calls.participant(context.member.id)?.ticket.channel == node.id else {
            throw .init(.unexpectedMessage, "You are not in the call of '\(call.address)'; join_call first.")
        }
        let ice = media.iceConfiguration(for: context.member.id)
        return .reply(
            self.result(
                Self.iceServers, at: call.address,
                ["ice_servers": .array(ice.servers.map(\.json)), "ice_expires_at": ice.expiresAt.map(JSONValue.int) ?? .null]
            )
        )
    }
}
