import HTTPTypes
import Hummingbird

/// Lets a web client served by another community use this community's attachments (docs/PROTOCOL.md "Attachments
/// (HTTP)"): a member's page lives on one origin and talks to every community they joined.
///
/// Only `/api/attachments` and below, and only what the client does there: `GET` (download) and `POST` (upload) with
/// `Authorization: Bearer <session_token>` and a `Content-Type`, preflighted by `OPTIONS`. Any origin may ask
/// (`Access-Control-Allow-Origin: *`) because nothing here rides on ambient credentials: the bearer token is the
/// whole authority, and a page can only send one it was given at its own login. No credentials mode (no cookies, no
/// `Access-Control-Allow-Credentials`), so a browser never attaches anything the page did not put there. Every other
/// path (the web client's files, `/metrics`, `/healthz`) has no CORS headers: other origins cannot read them.
struct AttachmentCORSMiddleware<Context: RequestContext>: RouterMiddleware {
    static var path: String { "/api/attachments" }

    let cors = CORSMiddleware<Context>(
        allowOrigin: .all,
        allowHeaders: [.authorization, .contentType],
        allowMethods: [.get, .post],
        allowCredentials: false,
        maxAge: .seconds(600)
    )

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path == Self.path || path.hasPrefix(Self.path + "/") else { return try await next(request, context) }
        var response = try await self.cors.handle(request, context: context, next: next)
        if request.method != .options, request.headers[.origin] != nil {
            // A refused upload's 429 says when to retry; the page may read that (exposed on the response itself).
            response.headers[.accessControlExposeHeaders] = "Retry-After"
        }
        return response
    }
}
