import CommuneServer
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Every HTTP response carries the same security headers, whatever answered it: the web client's files, `/healthz`,
/// the attachment routes, and a path nothing serves (404).
@Suite("HTTP security headers")
struct WebHeadersTests {
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        + "connect-src 'self' http: https: ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'self'; "
        + "form-action 'self'"

    func get(_ server: TestServer, _ path: String, method: String = "GET", headers: [String: String] = [:]) async throws -> HTTPURLResponse {
        var request = URLRequest(url: URL(string: server.baseURL + path)!)
        request.httpMethod = method
        request.timeoutInterval = 10
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (_, response) = try await URLSession.shared.data(for: request)
        return try #require(response as? HTTPURLResponse)
    }

    @Test(
        "index, script, health check, attachment refusal, 404 and 400 all carry the CSP (other hosts for connections only), nosniff and no-referrer",
        arguments: [("/", 200), ("/main.js", 200), ("/healthz", 200), ("/api/attachments/nothing", 401), ("/no/such/file.html", 404), ("/..%2F..%2Fetc/passwd", 400)]
    )
    func headers(path: String, status: Int) async throws {
        let server = try await TestServer.start()
        let response = try await self.get(server, path)
        #expect(response.statusCode == status)
        #expect(response.value(forHTTPHeaderField: "Content-Security-Policy") == Self.contentSecurityPolicy)
        #expect(response.value(forHTTPHeaderField: "X-Content-Type-Options") == "nosniff")
        #expect(response.value(forHTTPHeaderField: "Referrer-Policy") == "no-referrer")
        #expect(response.value(forHTTPHeaderField: "Cache-Control") != nil)
        await server.stopAndRemove()
    }

    static let otherCommunity = ["Origin": "http://127.0.0.1:2001"]

    @Test("another community's page may preflight and use the attachment routes with a bearer token, without credentials")
    func attachmentCORS() async throws {
        let server = try await TestServer.start()
        for path in ["/api/attachments", "/api/attachments/nothing"] {
            let preflight = try await self.get(
                server, path, method: "OPTIONS",
                headers: Self.otherCommunity.merging(
                    ["Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"]
                ) { a, _ in a }
            )
            #expect(preflight.statusCode == 204)
            #expect(preflight.value(forHTTPHeaderField: "Access-Control-Allow-Origin") == "*")
            #expect(preflight.value(forHTTPHeaderField: "Access-Control-Allow-Methods") == "GET, POST")
            #expect(preflight.value(forHTTPHeaderField: "Access-Control-Allow-Headers") == "authorization, content-type")
            #expect(preflight.value(forHTTPHeaderField: "Access-Control-Max-Age") == "600")
            #expect(preflight.value(forHTTPHeaderField: "Access-Control-Allow-Credentials") == nil)
            #expect(preflight.value(forHTTPHeaderField: "Content-Security-Policy") == Self.contentSecurityPolicy)
        }
        // The answer itself (here a refusal: a wrong token) is readable by the other page, Retry-After too.
        let refused = try await self.get(
            server, "/api/attachments/nothing", headers: Self.otherCommunity.merging(["Authorization": "Bearer nope"]) { a, _ in a }
        )
        #expect(refused.statusCode == 401)
        #expect(refused.value(forHTTPHeaderField: "Access-Control-Allow-Origin") == "*")
        #expect(refused.value(forHTTPHeaderField: "Access-Control-Expose-Headers") == "Retry-After")
        #expect(refused.value(forHTTPHeaderField: "Access-Control-Allow-Credentials") == nil)
        await server.stopAndRemove()
    }

    @Test("the web client's files, health checks and metrics give other origins nothing to read", arguments: ["/", "/main.js", "/healthz", "/metrics"])
    func noCORSElsewhere(path: String) async throws {
        let server = try await TestServer.start()
        let plain = try await self.get(server, path, headers: Self.otherCommunity)
        #expect(plain.value(forHTTPHeaderField: "Access-Control-Allow-Origin") == nil)
        let preflight = try await self.get(
            server, path, method: "OPTIONS", headers: Self.otherCommunity.merging(["Access-Control-Request-Method": "GET"]) { a, _ in a }
        )
        #expect(preflight.value(forHTTPHeaderField: "Access-Control-Allow-Origin") == nil)
        #expect(preflight.value(forHTTPHeaderField: "Access-Control-Allow-Methods") == nil)
        await server.stopAndRemove()
    }
}
