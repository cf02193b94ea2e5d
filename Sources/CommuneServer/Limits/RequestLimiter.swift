import CommuneCore
import CommuneProtocol

/// Applies ``RateLimits`` to requests: the server-wide buckets (per source address, per member, per user id), while
/// each connection keeps its own bucket for its requests.
final class RequestLimiter: Sendable {
    let limits: RateLimits
    private let registrations: RateLimiter<String>
    private let logins: RateLimiter<String>
    private let failedLoginsByAddress: RateLimiter<String>
    private let failedLoginsByUser: RateLimiter<UUIDString>
    private let messages: RateLimiter<UUIDString>
    private let uploads: RateLimiter<UUIDString>

    init(_ limits: RateLimits) {
        self.limits = limits
        self.registrations = RateLimiter(limits.registrationsPerAddress)
        self.logins = RateLimiter(limits.loginsPerAddress)
        self.failedLoginsByAddress = RateLimiter(limits.failedLoginsPerAddress)
        self.failedLoginsByUser = RateLimiter(limits.failedLoginsPerUser)
        self.messages = RateLimiter(limits.messagesPerMember)
        self.uploads = RateLimiter(limits.uploadsPerMember)
    }

    /// What to do with a request before it runs: go on, wait first, or refuse.
    enum Decision: Equatable {
        case proceed
        case delay(Duration)
        case refuse(CommuneError)
    }

    /// Applies the server-wide limits to a request of `type` (and `function`, for a function call) from `address`
    /// by `member` (once logged in). `user` is the `user_id` an `identification` names.
    func admit(_ type: MessageType, function: String?, member: UUIDString?, user: UUIDString?, address: String) -> Decision {
        let now = ContinuousClock.now
        switch type {
        case .register:
            return self.decide(self.registrations.reserve(address, now: now, maxDelay: self.limits.maxDelay), "registrations from your address")
        case .identification:
            // Guessing challenge answers (or user ids) must stay slow: once the failures are spent, no more tries.
            if let wait = self.failedLoginsByAddress.wait(address, now: now) ?? user.flatMap({ self.failedLoginsByUser.wait($0, now: now) }) {
                return .refuse(Self.refusal("failed logins", wait: wait))
            }
            return self.decide(self.logins.reserve(address, now: now, maxDelay: self.limits.maxDelay), "logins from your address")
        case .function where function == TextFunction.sendMessage:
            guard let member else { return .proceed }
            return self.decide(self.messages.reserve(member, now: now, maxDelay: self.limits.maxDelay), "messages")
        default:
            return .proceed
        }
    }

    /// Counts a failed challenge answer against `address` and `user`.
    func loginFailed(user: UUIDString?, address: String) {
        let now = ContinuousClock.now
        _ = self.failedLoginsByAddress.take(address, now: now)
        if let user { _ = self.failedLoginsByUser.take(user, now: now) }
    }

    /// How long `member` must wait before uploading, or `nil` to go on.
    func admitUpload(by member: UUIDString) -> Duration? {
        self.uploads.take(member)
    }

    func decide(_ reservation: Duration?, _ what: String) -> Decision {
        guard let wait = reservation else { return .proceed }
        if wait <= self.limits.maxDelay { return .delay(wait) }
        return .refuse(Self.refusal(what, wait: wait))
    }

    /// The `rate_limited` error, with when to retry.
    static func refusal(_ what: String, wait: Duration) -> CommuneError {
        let milliseconds = max(1, Int64(wait.components.seconds) * 1_000 + wait.components.attoseconds / 1_000_000_000_000_000)
        var error = CommuneError(.rateLimited, "Too many \(what); try again in \(Self.describe(milliseconds)).")
        error.retryAfterMilliseconds = milliseconds
        return error
    }

    private static func describe(_ milliseconds: Int64) -> String {
        milliseconds < 1_000 ? "\(milliseconds) ms" : "\((milliseconds + 999) / 1_000) s"
    }
}
