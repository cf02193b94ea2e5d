import HTTPTypes
import Hummingbird
import NIOCore

/// What an operator's tools ask a node: `/healthz` (the process answers), `/readyz` (send it members) and
/// `/metrics` (Prometheus text). Plain text, never cached.
struct OperationsRoutes: Sendable {
    let readiness: Readiness
    let metrics: ServerMetrics
    let access: MetricsAccess
    /// Logged-in connections now.
    let connections: @Sendable () -> Int

    func register(on router: Router<HTTPRequestContext>) {
        router.get("/healthz") { _, _ in Self.text(.ok, "ok\n") }
        router.get("/readyz") { _, _ in
            guard let reason = await self.readiness.check() else { return Self.text(.ok, "ready\n") }
            return Self.text(.serviceUnavailable, "not ready: \(reason)\n")
        }
        router.get("/metrics") { request, context in
            switch self.access.decide(peer: context.remoteAddress, headers: request.headers) {
            case .allowed:
                let body = self.metrics.exposition(connections: self.connections())
                return Self.text(.ok, ByteBuffer(bytes: body), type: "text/plain; version=0.0.4; charset=utf-8")
            case .refused(let status, let reason):
                var response = Self.text(status, reason + "\n")
                if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer realm=\"metrics\"" }
                return response
            }
        }
    }

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        self.text(status, ByteBuffer(string: text), type: "text/plain; charset=utf-8")
    }

    static func text(_ status: HTTPResponse.Status, _ body: ByteBuffer, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }
}
