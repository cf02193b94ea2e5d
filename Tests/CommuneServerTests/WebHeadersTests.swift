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
        + "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

    func get(_ server: TestServer, _ path: String) async throws -> HTTPURLResponse {
        var request = URLRequest(url: URL(string: server.baseURL + path)!)
        request.timeoutInterval = 10
        let (_, response) = try await URLSession.shared.data(for: request)
        return try #require(response as? HTTPURLResponse)
    }

    @Test(
        "index, script, health check, attachment refusal, 404 and 400 all carry the CSP (no ws:/wss: wildcard), nosniff and no-referrer",
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
}
