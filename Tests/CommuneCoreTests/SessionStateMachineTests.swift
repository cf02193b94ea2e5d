import CommuneProtocol
import Testing

@testable import CommuneCore

@Suite("Session state machine")
struct SessionStateMachineTests {
    let member = Member(id: UUIDString.random(), username: "alice", publicKey: [], group: "member", joinedAt: 0)
    let secret = [UInt8](repeating: 1, count: 32)
    var answer: String { "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=" }

    @Test("identification, right answer: authenticated")
    func happyPath() throws {
        var machine = SessionStateMachine()
        try machine.challenged(member: self.member, secret: self.secret, expiresAt: 100)
        #expect(try machine.answered(self.answer, now: 50) == self.member)
        #expect(machine.member == self.member)
        #expect(try machine.requireMember() == self.member)
    }

    @Test("functions before login: not_authenticated")
    func notAuthenticated() {
        let machine = SessionStateMachine()
        #expect(throws: CommuneError.self) { try machine.requireMember() }
        do {
            _ = try machine.requireMember()
        } catch {
            #expect(error.code == .notAuthenticated)
        }
    }

    @Test("an answer without a challenge: unexpected_message, and the session stays usable")
    func answerWithoutChallenge() throws {
        var machine = SessionStateMachine()
        #expect(throws: CommuneError.self) { try machine.answered(self.answer, now: 0) }
        #expect(machine.state == .awaitingIdentification)
    }

    @Test("a wrong answer closes the session and spends the challenge")
    func wrongAnswer() throws {
        var machine = SessionStateMachine()
        try machine.challenged(member: self.member, secret: self.secret, expiresAt: 100)
        do {
            _ = try machine.answered("AAAA", now: 50)
            Issue.record("a wrong answer was accepted")
        } catch {
            #expect(error.code == .challengeFailed)
        }
        #expect(machine.state == .closed)
        // Replaying the right answer after that does not log in.
        #expect(throws: CommuneError.self) { try machine.answered(self.answer, now: 50) }
        #expect(machine.member == nil)
    }

    @Test("a late answer fails")
    func lateAnswer() throws {
        var machine = SessionStateMachine()
        try machine.challenged(member: self.member, secret: self.secret, expiresAt: 100)
        do {
            _ = try machine.answered(self.answer, now: 101)
            Issue.record("a late answer was accepted")
        } catch {
            #expect(error.code == .challengeFailed)
        }
    }

    @Test("a used challenge cannot be answered twice")
    func replay() throws {
        var machine = SessionStateMachine()
        try machine.challenged(member: self.member, secret: self.secret, expiresAt: 100)
        _ = try machine.answered(self.answer, now: 1)
        do {
            _ = try machine.answered(self.answer, now: 2)
            Issue.record("a replayed answer was accepted")
        } catch {
            #expect(error.code == .unexpectedMessage)
        }
        #expect(throws: CommuneError.self) { try machine.checkCanRegister() }
    }
}
