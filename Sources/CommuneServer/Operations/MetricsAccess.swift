import HTTPTypes
import NIOCore

/// Who may read `/metrics`: a client on this machine, or anyone with the metrics token.
///
/// "On this machine" means a loopback address, judged as the rate limits judge addresses (``SourceAddress``): a
/// request relayed by a `--trusted-proxy` counts as coming from the address the proxy names in `X-Forwarded-For`
/// (so a public client of the proxy is refused, and a proxy that does not say who its client is too), and a request
/// that carries forwarding headers from any other peer is refused, since an undeclared proxy on this machine would
/// otherwise pass its public clients off as local. With a token (`--metrics-token-file`), `Authorization: Bearer
/// <token>` is accepted from anywhere.
struct MetricsAccess: Sendable {
    /// The bearer token that opens `/metrics` from anywhere; `nil` for loopback only.
    let token: String?
    let trustedProxies: Set<String>

    enum Decision: Equatable {
        case allowed
        /// The status (401 with a token configured, else 403) and a one-line reason.
        case refused(HTTPResponse.Status, String)
    }

    func decide(peer: SocketAddress?, headers: HTTPFields) -> Decision {
        if let token, let header = headers[.authorization], header.hasPrefix("Bearer "),
            Self.same(String(header.dropFirst("Bearer ".count)), token)
        {
            return .allowed
        }
        if let client = self.client(peer: peer, headers: headers), Self.isLoopback(client) { return .allowed }
        if self.token != nil {
            return .refused(.unauthorized, "Metrics are served to this machine, or with the metrics token as 'Authorization: Bearer <token>'.")
        }
        return .refused(.forbidden, "Metrics are served to this machine only (commune serve --metrics-token-file opens them to others).")
    }

    /// The client's address as far as it can be known: `nil` when a proxy relays the request without saying for whom.
    private func client(peer: SocketAddress?, headers: HTTPFields) -> String? {
        guard let peerAddress = peer?.ipAddress else { return nil }
        let forwardedFor = headers[values: .xForwardedFor]
        if self.trustedProxies.contains(peerAddress) {
            guard !forwardedFor.isEmpty else { return nil }
            return SourceAddress.of(peer: peer, forwardedFor: forwardedFor, trustedProxies: self.trustedProxies)
        }
        let relayed = !forwardedFor.isEmpty || headers[.forwarded] != nil || headers[.xRealIP] != nil
        return relayed ? nil : peerAddress
    }

    static func isLoopback(_ address: String) -> Bool {
        address == "::1" || address.hasPrefix("127.") || address.hasPrefix("::ffff:127.")
    }

    /// Compares in time that does not depend on where the strings differ (only on their length).
    private static func same(_ given: String, _ expected: String) -> Bool {
        let given = Array(given.utf8)
        let expected = Array(expected.utf8)
        guard given.count == expected.count else { return false }
        var difference: UInt8 = 0
        for index in given.indices { difference |= given[index] ^ expected[index] }
        return difference == 0
    }
}

extension HTTPField.Name {
    static let forwarded = HTTPField.Name("Forwarded")!
    static let xRealIP = HTTPField.Name("X-Real-IP")!
}
