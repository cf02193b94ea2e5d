import HTTPTypes
import Hummingbird
import Logging

/// Adds the web client's security and caching headers to every HTTP response, errors (404, 500) included.
///
/// The Content-Security-Policy forbids inline script and script, styles, frames, plugins and forms from any origin
/// but this server's, so no message content can ever run as script even if a client bug inserted it as HTML.
///
/// `connect-src` is the one directive that reaches other hosts: a member's page talks to every community in their
/// home (their WebSockets and attachments), and which those are is known only inside the page, after it has opened
/// the home with the member's key; this server never learns them. A page's policy cannot grow after load (a `<meta>`
/// policy can only add restrictions), so the policy names the schemes instead: `http: https: ws: wss:` (the browser
/// still blocks `http:`/`ws:` from an `https:` page as mixed content). Images stay `'self' data: blob:`: another
/// community's attachments are fetched with its bearer token and shown as `blob:` URLs, never loaded by address.
/// `frame-ancestors 'self'`: only the client itself may frame its pages (a community opened from the rail is the
/// same client in a frame of the same origin); no other site can, against clickjacking.
struct WebHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var contentSecurityPolicy: String {
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            + "connect-src 'self' http: https: ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'self'; "
            + "form-action 'self'"
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
