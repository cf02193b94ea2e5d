import HTTPTypes
import Hummingbird

/// Adds the web client's security and caching headers to every HTTP response.
///
/// The Content-Security-Policy forbids inline script and any origin but this server's, so no message content can
/// ever run as script even if a client bug inserted it as HTML.
struct WebHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var contentSecurityPolicy: String {
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            + "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        if response.headers[.cacheControl] == nil {
            // Revalidate every time (ETag / Last-Modified make that cheap) so an upgraded server never serves a stale client.
            response.headers[.cacheControl] = "no-cache"
        }
        return response
    }
}
