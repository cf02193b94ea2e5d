import CommuneCore
import CommuneProtocol
import Hummingbird
import NIOCore

/// The HTTP side of attachments: upload and download, for members only.
///
/// A member proves who they are with the `session_token` from their login (`Authorization: Bearer …`, or `?token=`
/// for a plain link). Failures answer JSON `{"code", "message"}` with the same codes as the WebSocket protocol.
struct AttachmentRoutes: Sendable {
    let community: Community
    /// The server's rate limits (uploads per member); `nil` when they are off.
    var limiter: RequestLimiter?

    func register(on router: Router<HTTPRequestContext>) {
        router.post("/api/attachments") { request, context in
            try await self.upload(request, context: context)
        }
        router.get("/api/attachments/:id") { request, context in
            try await self.download(request, context: context)
        }
    }

    /// The member behind the request's token, or the `not_authenticated` error response.
    func member(_ request: Request) async -> Member? {
        var token = request.uri.queryParameters.get("token")
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") {
            token = String(header.dropFirst("Bearer ".count))
        }
        guard let token else { return nil }
        return await self.community.member(forSessionToken: token)
    }

    func upload(_ request: Request, context: HTTPRequestContext) async throws -> Response {
        guard let member = await self.member(request) else {
            return Self.failure(.unauthorized, CommuneError(.notAuthenticated, "Log in and send the session_token as 'Authorization: Bearer <token>'."))
        }
        if let wait = self.limiter?.admitUpload(by: member.id) {
            let error = RequestLimiter.refusal("uploads", wait: wait)
            var response = Self.failure(.tooManyRequests, error)
            response.headers[.retryAfter] = String(((error.retryAfterMilliseconds ?? 1_000) + 999) / 1_000)
            return response
        }
        let limit = self.community.configuration.maxAttachmentBytes
        let tooLarge = CommuneError(.tooLarge, "Attachments may have at most \(limit) bytes.")
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            return Self.failure(.contentTooLarge, tooLarge)
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch {
            return Self.failure(.contentTooLarge, tooLarge)
        }
        do {
            let info = try await self.community.upload(Array(buffer: body), by: member)
            return Self.json(.created, info.json)
        } catch {
            let status: HTTPResponse.Status = error.code == .tooLarge ? .contentTooLarge : (error.code == .internalError ? .internalServerError : .badRequest)
            return Self.failure(status, error)
        }
    }

    func download(_ request: Request, context: HTTPRequestContext) async throws -> Response {
        guard await self.member(request) != nil else {
            return Self.failure(.unauthorized, CommuneError(.notAuthenticated, "Attachments are for members: send your session_token."))
        }
        let id = context.parameters.get("id") ?? ""
        guard let (type, bytes) = await self.community.download(id) else {
            return Self.failure(.notFound, CommuneError(.notFound, "No attachment '\(id)'."))
        }
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.contentDisposition] = "inline"
        // The bytes behind an id never change; only members may hold them.
        headers[.cacheControl] = "private, max-age=31536000, immutable"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: value.jsonString)))
    }

    static func failure(_ status: HTTPResponse.Status, _ error: CommuneError) -> Response {
        self.json(status, ["code": .string(error.code.rawValue), "message": .string(error.message)])
    }
}
