import CommuneCore
import CommuneProtocol
import Logging
import Synchronization

/// The requests other than functions: `register`, `identification`, `challenge_response` (the login, which joins the
/// connection to the hub and announces the member online) and `ping`.
extension ClientConnection {
    /// Runs one request other than a `function`; returns the reply to send, or `nil` when the handler sent it
    /// already.
    func handle(_ envelope: Envelope) async throws(CommuneError) -> Envelope? {
        switch envelope.type {
        case .register:
            try self.state.withLock { state throws(CommuneError) in try state.session.checkCanRegister() }
            let request = try RegisterRequest(data: envelope.data)
            let member = try await self.community.register(request)
            self.hub.publish(CommunityFunctions.memberJoinedUpdate(member, online: false), to: self.community.listingAudience(of: member.id))
            return Envelope(
                type: .register, id: envelope.id, logMessage: "Client registered",
                data: RegisterResponse(accepted: true, userID: member.id).data
            )

        case .identification:
            let request = try IdentificationRequest(data: envelope.data)
            if self.community.member(request.userID) == nil, let cluster = self.hub.cluster {
                // Registered on another node a moment ago, perhaps: this node may not have read it yet, and its record
                // may not even be in the stream yet (a registration's reply does not wait for it): the store says last.
                await cluster.catchUp()
                if self.community.member(request.userID) == nil {
                    do {
                        try await self.community.reload(.member(request.userID))
                    } catch {
                        self.logger.warning("Reading member \(request.userID.value) from the store failed: \(error)")
                    }
                }
            }
            let (member, challenge, secret) = try self.community.makeChallenge(for: request.userID)
            let expiresAt = UnixTime.nowMilliseconds() + self.community.configuration.challengeLifetimeMilliseconds
            try self.state.withLock { state throws(CommuneError) in
                try state.session.challenged(member: member, secret: secret, expiresAt: expiresAt)
                state.resume = request.resume
            }
            return Envelope(type: .challenge, id: envelope.id, logMessage: "Solve this challenge to log in", data: challenge.data)

        case .challengeResponse:
            let response = try ChallengeResponse(data: envelope.data)
            let now = UnixTime.nowMilliseconds()
            let (member, resume) = try self.state.withLock { state throws(CommuneError) in
                (try state.session.answered(response.challenge, now: now), state.resume)
            }
            let reply = Envelope(
                type: .identificationResponse, id: envelope.id, logMessage: "Challenge solved you are logged in",
                data: try await self.community.identificationResponse(for: member).data
            )
            if let resume, resume.stream == self.hub.cluster?.snapshot.streamID {
                await self.hub.cluster?.waitUntilRead(resume.position)
            }
            // The hub queues the reply (with where this login joins the stream), then what a resume missed, then
            // lets updates in: the reply precedes every update, and nothing falls between.
            let outcome = self.hub.add(self.id, member: member.id, outbox: self.outbox, reply: reply, resume: resume)
            if self.community.connectionOpened(by: member.id) {
                // A resumed connection was just sent its own going offline among what it missed: it hears that it
                // is back too.
                let audience = if case .resumed? = outcome { Audience.community } else { Audience.community.excluding(self.id) }
                self.hub.presenceChanged(member.id, online: true, audience: audience)
            }
            switch outcome {
            case nil: self.logger.info("Member logged in", metadata: ["user_id": "\(member.id)"])
            case .resumed(let missed)?:
                self.logger.info("Member logged in and resumed", metadata: ["user_id": "\(member.id)", "missed": "\(missed)"])
            case .refetch(let reason)?:
                self.logger.info("Member logged in; resume refused", metadata: ["user_id": "\(member.id)", "reason": "\(reason)"])
            }
            return nil

        case .function:
            // Handled by perform(_:), which returns an effect rather than an envelope.
            throw .internalError("A function request reached the wrong handler.")

        case .ping:
            _ = try self.state.withLock { state throws(CommuneError) in try state.session.requireMember() }
            return Envelope(type: .pong, id: envelope.id, logLevel: .debug, logMessage: "pong")

        case .challenge, .identificationResponse, .update, .error, .pong:
            throw .init(.unexpectedMessage, "'\(envelope.type)' is sent by the server, not by clients.")

        default:
            throw .init(.unknownType, "Unknown message type '\(envelope.type)'.")
        }
    }
}
