import CommuneCore
import CommuneProtocol
import Crypto
import Foundation

/// The STUN and TURN servers handed to call members, with TURN credentials of coturn's REST scheme
/// (`use-auth-secret`): user name `EXPIRY:USER_ID` (Unix seconds), password `base64(HMAC-SHA1(secret, user name))`.
/// coturn checks them at allocation; nobody can mint one without the secret, and one stops working at its expiry.
struct ICEProvider: Sendable {
    /// `stun:` URLs (no credentials).
    var stunURLs: [String]
    /// `turn:`/`turns:` URLs sharing the secret.
    var turnURLs: [String]
    /// coturn's `static-auth-secret`.
    var turnSecret: String
    /// How long a credential is accepted: long enough for a call, refreshed with `refresh_ice`.
    var lifetime: Duration = .seconds(6 * 3600)

    func configuration(for member: UUIDString, now: Date = Date()) -> ICEConfiguration {
        var servers: [ICEServer] = []
        if !self.stunURLs.isEmpty { servers.append(ICEServer(urls: self.stunURLs)) }
        guard !self.turnURLs.isEmpty else { return ICEConfiguration(servers: servers) }
        let expiry = Int64(now.timeIntervalSince1970) + self.lifetime.components.seconds
        let username = "\(expiry):\(member.value)"
        servers.append(ICEServer(urls: self.turnURLs, username: username, credential: Self.password(username: username, secret: self.turnSecret)))
        return ICEConfiguration(servers: servers, expiresAt: expiry * 1000)
    }

    /// coturn's password for `username`.
    static func password(username: String, secret: String) -> String {
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(username.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return Data(mac).base64EncodedString()
    }
}
