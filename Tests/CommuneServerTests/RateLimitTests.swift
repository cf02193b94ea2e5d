import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Foundation
import Testing

/// Limits under abuse, over real connections: a flood is slowed, then refused with `rate_limited` and a retry time,
/// then disconnected, while a well-behaved member on the same server is not held back; guessing logins stays slow.
@Suite("Rate limits")
struct RateLimitTests {
    let general = ChannelAddress(path: "General", name: "General")

    func sendRequest(_ text: String, id: String) -> Envelope {
        let request = FunctionRequest(
            codec: TextFunction.codec, address: self.general, function: TextFunction.sendMessage, payload: ["message": .string(text)]
        )
        return Envelope(type: .function, id: id, logMessage: "", data: request.data)
    }

    @Test("a flood of sends is slowed, then refused with retry_after_ms, then closed; another member is not held back")
    func floodIsCutOff() async throws {
        let server = try await TestServer.start { configuration in
            var limits = RateLimits()
            // One message every 4 s after a burst of 10: a held-back send waits 4 s, and the next one over the limit
            // is the second in a row, which is refused. Slow enough that the flood's own duration refills nothing.
            limits.messagesPerMember = RateLimit(perSecond: 0.25, burst: 10)
            limits.maxDelay = .milliseconds(4_500)
            limits.maxDelayedInARow = 1
            configuration.rateLimits = limits
        }
        let calm = try await server.owner("calm")
        let (flooder, _) = try await server.rawMember("flooder")
        let count = 60
        let (replies, close) = try await flooder.run { socket in
            for index in 0..<count { try socket.send(self.sendRequest("flood \(index)", id: "f\(index)")) }
            var replies: [Envelope] = []
            while let frame = try socket.readFrame() {
                if frame.opcode == 0x8 { return (replies, RawWebSocket.closeDescription(frame.payload)) }
                guard frame.opcode == 0x1 else { continue }
                let envelope = try Envelope(json: String(decoding: frame.payload, as: UTF8.self))
                if envelope.type == .function || envelope.type == .error { replies.append(envelope) }
            }
            return (replies, "no close frame")
        }
        let accepted = replies.filter { $0.type == .function }
        let refused = replies.compactMap { CommuneError(envelope: $0) }
        // The burst and one held back go through, in order; the rest is refused with a retry time.
        #expect(accepted.count == 11, "accepted \(accepted.count)")
        #expect(accepted.map(\.id) == (0..<accepted.count).map { "f\($0)" })
        #expect(!refused.isEmpty)
        #expect(refused.allSatisfy { $0.code == .rateLimited && ($0.retryAfterMilliseconds ?? 0) > 0 })
        #expect(refused.first?.message.hasPrefix("Too many requests in a row over the limit; try again in ") == true)
        // Refused ten times in a row, the flooder was disconnected before the rest of its requests were answered.
        #expect(replies.count < count)
        #expect(close == "1008 too many errors")

        // The calm member has a budget of their own: their sends go through without the 4 s hold-back.
        for index in 0..<5 {
            let sent = ContinuousClock.now
            _ = try await calm.connection.sendMessage("calm \(index)", to: self.general)
            #expect(ContinuousClock.now - sent < .seconds(2))
        }
        let stored = try await calm.connection.messages(in: self.general, amount: 100)
        #expect(stored.count == accepted.count + 5)
        await server.stopAndRemove()
    }

    @Test("after a few wrong challenge answers for one user id, logins for it are refused until the budget refills")
    func failedLoginsAreLimited() async throws {
        let server = try await TestServer.start { configuration in
            var limits = RateLimits()
            limits.failedLoginsPerUser = RateLimit.perMinute(3, burst: 3)
            configuration.rateLimits = limits
        }
        let victim = try await server.member("victim")
        let other = try await server.member("other")
        for _ in 0..<3 {
            let guesser = try await server.connect()
            _ = try await guesser.request(
                Envelope(type: .identification, id: nil, logMessage: "", data: ["user_id": .string(victim.identity.userID.value)])
            )
            await #expect(throws: CommuneError.self) {
                try await guesser.request(
                    Envelope(type: .challengeResponse, id: nil, logMessage: "", data: ["challenge": .string(Data(count: 32).base64EncodedString())])
                )
            }
            await guesser.close()
        }
        let next = try await server.connect()
        do {
            _ = try await next.login(victim.identity)
            Issue.record("a login for the guessed user id was accepted")
        } catch let error as CommuneError {
            #expect(error.code == .rateLimited)
            #expect(error.message.hasPrefix("Too many failed logins; try again in "))
            #expect((error.retryAfterMilliseconds ?? 0) > 1_000)
        }
        await next.close()
        // Another member logs in from the same address as usual.
        let again = try await server.connect()
        _ = try await again.login(other.identity)
        await again.close()
        await server.stopAndRemove()
    }

    @Test("registrations from one address beyond the limit are refused and create nobody")
    func registrationsAreLimited() async throws {
        let server = try await TestServer.start { configuration in
            var limits = RateLimits()
            limits.registrationsPerAddress = RateLimit.perMinute(1, burst: 2)
            configuration.rateLimits = limits
        }
        let owner = try await server.owner()
        _ = try await server.member("second")
        let connection = try await server.connect()
        await #expect(throws: CommuneError.self) {
            try await connection.register(Identity.generate(), invite: try await server.invite(), username: "third")
        }
        do {
            try await connection.register(Identity.generate(), invite: try await server.invite(), username: "third")
        } catch let error as CommuneError {
            #expect(error.code == .rateLimited)
            #expect(error.message.hasPrefix("Too many registrations from your address; try again in "))
        }
        #expect(try await owner.connection.members().map(\.username).sorted() == ["owner", "second"])
        await connection.close()
        await server.stopAndRemove()
    }
}
