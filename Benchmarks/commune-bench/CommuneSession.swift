import CommuneProtocol
import Crypto
import NIOCore

/// A member of a Commune community: registers with the invite, logs in by solving the challenge
/// (``ChallengeCipher``), then sends `send_message` and reads `message_live` updates.
///
/// Handshake frames are decoded as ``Envelope``s. Frames after login are only searched, not parsed: the envelope's
/// `type` picks the kind, then one byte search finds the benchmark marker, the acknowledgement or the page.
final class CommuneSession: BenchSession {
    private enum State {
        case upgrading, registering, registered, identifying, answering, loggedIn, closed
    }

    let index: Int
    private unowned let run: BenchRun
    private var state = State.upgrading
    private var codec = WebSocketClientCodec()
    private let frames = WebSocketFrameWriter()
    private var context: ChannelHandlerContext?
    private let privateKey: Curve25519.KeyAgreement.PrivateKey
    private let userID: UUIDString
    /// Registered in an earlier run (`--identities`): logs in without registering.
    private let returning: Bool
    /// `send_message` requests go without an `id`; their acknowledgements come back in order.
    private var sendTimes: [UInt64] = []
    private var sendTimesHead = 0
    private var historySentAt: UInt64 = 0
    private let sendPrefix: [UInt8]
    private static let sendSuffix: [UInt8] = Array(#""}}}"#.utf8)

    private static let typeKey: [UInt8] = Array(#""type":""#.utf8)
    private static let messageReceived: [UInt8] = Array(#""message_received""#.utf8)
    private static let messageChunk: [UInt8] = Array(#""message_chunk""#.utf8)
    private static let messageIDKey: [UInt8] = Array(#""message_id":"#.utf8)

    init(index: Int, run: BenchRun) {
        self.index = index
        self.run = run
        if let identities = run.config.identities {
            self.privateKey = identities.members[index].privateKey
            self.userID = identities.members[index].userID
            self.returning = identities.returning
        } else {
            self.privateKey = Curve25519.KeyAgreement.PrivateKey()
            self.userID = UUIDString.random()
            self.returning = false
        }
        var writer = JSONWriter(capacity: 256)
        writer.writeRaw(#"{"type":"function","data":{"codec":"text","function":"send_message","name":"#)
        writer.write(string: run.config.channel.name)
        writer.writeRaw(#","path":"#)
        writer.write(string: run.config.channel.path)
        writer.writeRaw(#","payload":{"message":""#)
        self.sendPrefix = writer.bytes
    }

    func attach(context: ChannelHandlerContext) {
        self.context = context
        let request = WebSocketClientCodec.upgradeRequest(
            host: self.run.config.host, port: self.run.config.port(for: self.index), allocator: context.channel.allocator)
        context.writeAndFlush(NIOAny(request), promise: nil)
    }

    func detach() {
        self.context = nil
        if self.state != .closed {
            self.state = .closed
            self.run.sessionClosed(self.index, reason: "connection closed")
        }
    }

    func receive(_ buffer: ByteBuffer) {
        self.codec.receive(buffer) { event in
            switch event {
            case .upgraded where self.returning:
                self.state = .registered
                self.run.sessionReady(self.index)
            case .upgraded:
                self.state = .registering
                let request = RegisterRequest(
                    userID: self.userID, publicKey: self.privateKey.publicKey.base64,
                    invite: self.run.config.inviteCode, username: self.run.config.username(for: self.index))
                self.send(Envelope(type: .register, id: "r", logMessage: "Client registering", data: request.data))
            case .message(let message):
                if self.state == .loggedIn {
                    self.receiveLoggedIn(message)
                } else {
                    self.receiveHandshake(message)
                }
            case .ping(let payload):
                if let context = self.context {
                    context.writeAndFlush(NIOAny(self.frames.pong(payload, allocator: context.channel.allocator)), promise: nil)
                }
            case .closed(let code, let reason):
                let previous = self.state
                self.state = .closed
                let text = "server closed the socket (\(code.map(String.init) ?? "no code")) \(reason)"
                if previous == .loggedIn {
                    self.run.sessionClosed(self.index, reason: text)
                } else {
                    self.run.sessionFailed(self.index, reason: text)
                }
                self.context?.close(promise: nil)
            case .failed(let reason):
                self.state = .closed
                self.run.sessionFailed(self.index, reason: reason)
                self.context?.close(promise: nil)
            }
        }
    }

    func logIn() {
        guard self.state == .registered else { return }
        self.state = .identifying
        self.send(
            Envelope(type: .identification, id: "i", logMessage: "Client signing in",
                     data: IdentificationRequest(userID: self.userID).data))
    }

    func send(text: [UInt8]) {
        guard let context = self.context, self.state == .loggedIn else { return }
        var body = self.sendPrefix
        body.append(contentsOf: text)
        body.append(contentsOf: Self.sendSuffix)
        self.sendTimes.append(Monotonic.nanoseconds())
        context.writeAndFlush(NIOAny(self.frames.textFrame(body, allocator: context.channel.allocator)), promise: nil)
    }

    func requestHistory(loadedMessages: Int, before: Int64?, amount: Int) {
        var payload: [String: JSONValue] = ["loaded_messages": .int(Int64(loadedMessages)), "amount": .int(Int64(amount))]
        if let before { payload["before"] = .int(before) }
        let request = FunctionRequest(
            codec: TextFunction.codec, address: self.run.config.channel, function: TextFunction.getMessages,
            payload: .object(payload))
        self.historySentAt = Monotonic.nanoseconds()
        self.send(Envelope(type: .function, id: "h", logLevel: .debug, logMessage: "running function", data: request.data))
    }

    // MARK: - Handshake

    private func send(_ envelope: Envelope) {
        guard let context = self.context else { return }
        context.writeAndFlush(NIOAny(self.frames.textFrame(envelope.jsonBytes, allocator: context.channel.allocator)), promise: nil)
    }

    private func receiveHandshake(_ message: ByteBuffer) {
        let envelope: Envelope
        do {
            envelope = try Envelope(json: String(buffer: message))
        } catch {
            return self.fail("unreadable frame: \(error)")
        }
        if let error = CommuneError(envelope: envelope) {
            return self.fail("\(error) (while \(self.state))")
        }
        do {
            switch (self.state, envelope.type) {
            case (.registering, .register):
                guard try RegisterResponse(data: envelope.data).accepted else { return self.fail("registration refused") }
                self.state = .registered
                self.run.sessionReady(self.index)
            case (.identifying, .challenge):
                let challenge = try ChallengeMessage(data: envelope.data)
                let key = try ChallengeCipher.key(
                    privateKey: self.privateKey,
                    peerPublicKey: Curve25519.KeyAgreement.PublicKey(base64: challenge.publicKey))
                let answer = try ChallengeCipher.solve(sealed: challenge.challenge, key: key)
                self.state = .answering
                self.send(
                    Envelope(type: .challengeResponse, id: "c", logMessage: "Solved challenge",
                             data: ChallengeResponse(challenge: answer).data))
            case (.answering, .identificationResponse):
                let response = try IdentificationResponse(data: envelope.data)
                guard response.accepted else { return self.fail("login refused") }
                if self.index == 0 && !self.hasChannel(response.interactables) {
                    return self.fail("the community has no text channel \(self.run.config.channel)")
                }
                self.state = .loggedIn
                self.run.sessionLoggedIn(self.index)
            default:
                break  // updates and notes that do not move the handshake
            }
        } catch {
            self.fail("\(error)")
        }
    }

    private func hasChannel(_ tree: [InteractableNode]) -> Bool {
        var found = false
        InteractableNode.walk(tree) { path, node in
            if path == self.run.config.channel.path && node.name == self.run.config.channel.name && node.codec == TextFunction.codec {
                found = true
            }
        }
        return found
    }

    private func fail(_ reason: String) {
        self.state = .closed
        self.run.sessionFailed(self.index, reason: reason)
        self.context?.close(promise: nil)
    }

    // MARK: - Logged in

    private func receiveLoggedIn(_ message: ByteBuffer) {
        guard let typeAt = ByteScan.find(Self.typeKey, in: message) else { return }
        let first = message.getInteger(at: message.readerIndex + typeAt + Self.typeKey.count, as: UInt8.self)
        switch first {
        case UInt8(ascii: "u"):  // update
            BenchMessage.scan(message) { sendNanos, sender in
                self.run.delivered(sendNanos: sendNanos, sender: sender, receiver: self.index)
            }
        case UInt8(ascii: "f"):  // function reply
            let now = Monotonic.nanoseconds()
            if ByteScan.contains(Self.messageReceived, in: message) {
                var latency: UInt64 = 0
                if self.sendTimesHead < self.sendTimes.count {
                    latency = now &- self.sendTimes[self.sendTimesHead]
                    self.sendTimesHead += 1
                    if self.sendTimesHead > 4096 && self.sendTimesHead * 2 > self.sendTimes.count {
                        self.sendTimes.removeFirst(self.sendTimesHead)
                        self.sendTimesHead = 0
                    }
                }
                self.run.acknowledged(sender: self.index, latencyNanos: latency)
            } else if ByteScan.contains(Self.messageChunk, in: message) {
                let count = ByteScan.count(Self.messageIDKey, in: message)
                var newest: Int64?
                if let at = ByteScan.find(Self.messageIDKey, in: message),
                    let number = ByteScan.number(in: message, at: at + Self.messageIDKey.count)
                {
                    newest = Int64(number.value)
                }
                self.run.historyPage(latencyNanos: now &- self.historySentAt, count: count, newestID: newest)
            }
        case UInt8(ascii: "e"):  // error
            if let envelope = try? Envelope(json: String(buffer: message)), let error = CommuneError(envelope: envelope) {
                self.run.serverError(self.index, error: error)
                if envelope.id == nil, self.sendTimesHead < self.sendTimes.count {
                    self.sendTimesHead += 1  // a refused send_message is answered in its place
                }
            }
        default:
            break
        }
    }
}
