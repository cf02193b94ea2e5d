/// `register` request data: join the community with an invite.
public struct RegisterRequest: Sendable, Hashable {
    /// Chosen by the client; the member's id from now on.
    public var userID: UUIDString
    /// Base64 of the member's raw 32-byte X25519 public key.
    public var publicKey: String
    /// The invite's code (the part after `#invite=` in an invite link), or the whole link; `nil` (or empty) to
    /// join a public community without one.
    public var invite: String?
    /// The display name the member starts with.
    public var username: String

    public init(userID: UUIDString, publicKey: String, invite: String?, username: String) {
        self.userID = userID
        self.publicKey = publicKey
        self.invite = invite
        self.username = username
    }

    public init(data: JSONValue) throws(CommuneError) {
        let reader = try PayloadReader(data, context: "data")
        self.userID = try reader.uuid("user_id")
        self.publicKey = try reader.string("public_key")
        self.invite = try reader.optionalString("invite").flatMap { $0.isEmpty ? nil : $0 }
        self.username = try reader.string("username")
    }

    public var data: JSONValue {
        [
            "user_id": .string(self.userID.value), "public_key": .string(self.publicKey),
            "invite": self.invite.map { .string($0) } ?? .null, "username": .string(self.username),
        ]
    }
}

/// `register` reply data.
public struct RegisterResponse: Sendable, Hashable {
    public var accepted: Bool
    public var userID: UUIDString

    public init(accepted: Bool, userID: UUIDString) {
        self.accepted = accepted
        self.userID = userID
    }

    public init(data: JSONValue) throws(CommuneError) {
        let reader = try PayloadReader(data, context: "data")
        self.accepted = try reader.optionalBool("accepted") ?? false
        self.userID = try reader.uuid("user_id")
    }

    public var data: JSONValue { ["accepted": .bool(self.accepted), "user_id": .string(self.userID.value)] }
}

/// `identification` request data: start logging in.
public struct IdentificationRequest: Sendable, Hashable {
    public var userID: UUIDString
    /// Where the client was in the stream of updates, to get what it missed (``ResumePoint``).
    public var resume: ResumePoint?

    public init(userID: UUIDString, resume: ResumePoint? = nil) {
        self.userID = userID
        self.resume = resume
    }

    public init(data: JSONValue) throws(CommuneError) {
        self.userID = try PayloadReader(data, context: "data").uuid("user_id")
        switch data["resume"] {
        case nil, .null?: self.resume = nil
        case let resume?: self.resume = try ResumePoint(data: resume)
        }
    }

    public var data: JSONValue {
        var fields: [String: JSONValue] = ["user_id": .string(self.userID.value)]
        if let resume = self.resume { fields["resume"] = resume.data }
        return .object(fields)
    }
}

/// `challenge` data: the sealed secret and the community's public key.
public struct ChallengeMessage: Sendable, Hashable {
    /// base64(nonce(12) ‖ AES-256-GCM ciphertext ‖ tag(16)).
    public var challenge: String
    /// Base64 of the community's raw 32-byte X25519 public key.
    public var publicKey: String

    public init(challenge: String, publicKey: String) {
        self.challenge = challenge
        self.publicKey = publicKey
    }

    public init(data: JSONValue) throws(CommuneError) {
        let reader = try PayloadReader(data, context: "data")
        self.challenge = try reader.string("challenge")
        self.publicKey = try reader.string("public_key")
    }

    public var data: JSONValue { ["challenge": .string(self.challenge), "public_key": .string(self.publicKey)] }
}

/// `challenge_response` data: base64 of the decrypted 32 bytes.
public struct ChallengeResponse: Sendable, Hashable {
    public var challenge: String

    public init(challenge: String) { self.challenge = challenge }

    public init(data: JSONValue) throws(CommuneError) {
        self.challenge = try PayloadReader(data, context: "data").string("challenge")
    }

    public var data: JSONValue { ["challenge": .string(self.challenge)] }
}

/// `identification_response` data: logged in.
public struct IdentificationResponse: Sendable, Hashable {
    public var accepted: Bool
    public var userID: UUIDString
    public var username: String
    /// The community's information: `{name, description, icon, public}`.
    public var community: JSONValue
    /// The member's group.
    public var group: String
    /// A bearer token for the HTTP API (attachments), valid while the member stays a member, for a day.
    public var sessionToken: String
    /// The top level of the interactable tree, in `position` order.
    public var interactables: [InteractableNode]
    /// The community's public key from the `challenge` that preceded this reply (set by clients; not on the wire).
    public var communityKey: String?
    /// Where this login joined the stream of updates.
    public var stream: StreamPoint?
    /// The answer to the `identification`'s `resume`, when it had one.
    public var resume: ResumeOutcome?

    /// The community's display name.
    public var communityName: String { self.community["name"]?.stringValue ?? "" }

    public init(
        accepted: Bool, userID: UUIDString, username: String, community: JSONValue, group: String, sessionToken: String,
        interactables: [InteractableNode]
    ) {
        self.accepted = accepted
        self.userID = userID
        self.username = username
        self.community = community
        self.group = group
        self.sessionToken = sessionToken
        self.interactables = interactables
    }

    public init(data: JSONValue) throws(CommuneError) {
        let reader = try PayloadReader(data, context: "data")
        self.accepted = try reader.optionalBool("accepted") ?? false
        self.userID = try reader.uuid("user_id")
        self.username = try reader.optionalString("username") ?? ""
        self.community = data["community"] ?? [:]
        self.group = try reader.optionalString("group") ?? ""
        self.sessionToken = try reader.optionalString("session_token") ?? ""
        self.interactables = try InteractableNode.decodeTree(data["interactables"] ?? .object([:]))
        if let stream = data["stream"], stream != .null { self.stream = try StreamPoint(data: stream) }
        if let resume = data["resume"], resume != .null { self.resume = try ResumeOutcome(data: resume) }
    }

    public var data: JSONValue {
        var fields: [String: JSONValue] = [
            "accepted": .bool(self.accepted),
            "user_id": .string(self.userID.value),
            "username": .string(self.username),
            "community": self.community,
            "group": .string(self.group),
            "session_token": .string(self.sessionToken),
            "interactables": InteractableNode.encodeTree(self.interactables),
        ]
        if let stream = self.stream { fields["stream"] = stream.data }
        if let resume = self.resume { fields["resume"] = resume.data }
        return .object(fields)
    }
}
