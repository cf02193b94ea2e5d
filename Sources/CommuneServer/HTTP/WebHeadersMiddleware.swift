import HTTPTypes
import Hummingbird
import Logging

/// Adds the web client's security and caching headers to every HTTP response, errors (404, 500) included.
///
/// The Content-Security-Policy forbids inline script and any origin but this server's, so no message content can
/// ever run as script even if a client bug inserted it as HTML. `connect-src 'self'` lets the client reach only its
/// own server: `fetch` to the same origin and, by CSP Level 3, the WebSocket on the same host and port (`ws:` for an
/// `http:` page, `wss:` for an `https:` one); no other host.
struct WebHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var contentSecurityPolicy: String {
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            // No route or file matched (404), or a route refused: the error's own response, with the same headers.
            response = try error.response(from: request, context: context)
        } catch {
            context.logger.error("An HTTP request failed: \(error)")
            response = Response(status: .internalServerError)
        }
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
