import Foundation
import HTTPTypes
import NIOCore

/// The address a client connects from, as the per-address limits see it.
enum SourceAddress {
    /// The peer's IP address; when the peer is a trusted proxy, the last address its `X-Forwarded-For` adds (the one
    /// it saw; earlier entries are the client's own claims and are ignored).
    static func of(peer: SocketAddress?, forwardedFor: [String], trustedProxies: Set<String>) -> String {
        let peerAddress = peer?.ipAddress ?? "unknown"
        guard trustedProxies.contains(peerAddress),
            let forwarded = forwardedFor.last?.split(separator: ",").last?.trimmingCharacters(in: .whitespaces),
            !forwarded.isEmpty
        else { return peerAddress }
        return forwarded
    }
}

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}
