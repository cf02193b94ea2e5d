import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Foundation
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What an operator's tools ask a node, over real HTTP on loopback: `/healthz`, `/readyz` (with the real SQLite store,
/// a store that fails and one that hangs, and during a graceful shutdown) and `/metrics` (after real logins and sends,
/// and refused to whoever is not on this machine and has no token).
@Suite("Health, readiness and metrics")
struct OperationsTests {
    let general = ChannelAddress(path: "General", name: "General")

    struct Answer {
        var status: Int
        var body: String
        var headers: [String: String]
    }

    func get(_ server: TestServer, _ path: String, headers: [String: String] = [:]) async throws -> Answer {
        var request = URLRequest(url: URL(string: server.baseURL + path)!)
        request.timeoutInterval = 10
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
        }
        return Answer(status: http.statusCode, body: String(decoding: data, as: UTF8.self), headers: fields)
    }

    /// The value of the sample `series` (a name, with its labels as written) in a Prometheus text exposition.
    static func sample(_ series: String, in exposition: String) -> Double? {
        for line in exposition.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test("/healthz answers 200 ok; /readyz answers 200 ready with the real store")
    func healthAndReadiness() async throws {
        let server = try await TestServer.start()
        let health = try await self.get(server, "/healthz")
        #expect(health.status == 200)
        #expect(health.body == "ok\n")
        let ready = try await self.get(server, "/readyz")
        #expect(ready.status == 200)
        #expect(ready.body == "ready\n")
        #expect(ready.headers["cache-control"] == "no-store")
        await server.stopAndRemove()
    }

    /// A store whose health check throws, or never answers.
    struct BrokenStore: StoreHealthCheck {
        struct Failure: Error {}
        var hangs = false

        func ping() async throws {
            if self.hangs {
                try await Task.sleep(for: .seconds(60))
            }
            throw Failure()
        }
    }

    @Test("/readyz answers 503 with a one-line reason when the store fails a read or does not answer in time; /healthz stays 200")
    func readinessWithABrokenStore() async throws {
        let failing = try await TestServer.start(healthCheck: BrokenStore())
        let refused = try await self.get(failing, "/readyz")
        #expect(refused.status == 503)
        #expect(refused.body == "not ready: the store failed a read\n")
        #expect(try await self.get(failing, "/healthz").status == 200)
        await failing.stopAndRemove()

        let hanging = try await TestServer.start(healthCheck: BrokenStore(hangs: true)) { $0.readinessTimeout = .milliseconds(300) }
        let late = try await self.get(hanging, "/readyz")
        #expect(late.status == 503)
        #expect(late.body == "not ready: the store did not answer within 0.3 seconds\n")
        await hanging.stopAndRemove()
    }

    /// A store check that hangs until released (then answers at once), counting how often it was asked.
    final class HangingCheck: StoreHealthCheck {
        let pings = Atomic<Int>(0)
        private let waiting = Mutex<(released: Bool, pings: [CheckedContinuation<Void, Never>])>((false, []))

        func ping() async throws {
            self.pings.add(1, ordering: .relaxed)
            await withCheckedContinuation { continuation in
                let released = self.waiting.withLock { waiting in
                    if !waiting.released { waiting.pings.append(continuation) }
                    return waiting.released
                }
                if released { continuation.resume() }
            }
        }

        func release() {
            let pings = self.waiting.withLock { waiting in
                waiting.released = true
                defer { waiting.pings = [] }
                return waiting.pings
            }
            for ping in pings { ping.resume() }
        }
    }

    /// `GET /readyz` on a connection of its own, with its own socket, so that many can be in flight at once.
    func readyz(_ server: TestServer) async throws -> String {
        let connection = try RawHTTP(port: server.ready.port)
        return try await connection.run { connection in
            connection.write("GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            return String(decoding: try connection.readUntilClosed(), as: UTF8.self)
        }
    }

    @Test("/readyz on a hung store: 50 probes at once share one store check and are all answered 503; later probes wait for the same check")
    func readinessSharesOneCheck() async throws {
        let check = HangingCheck()
        let server = try await TestServer.start(healthCheck: check) { $0.readinessTimeout = .milliseconds(500) }
        let answers = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<50 { group.addTask { try await self.readyz(server) } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(answers.count == 50)
        for answer in answers {
            #expect(answer.hasPrefix("HTTP/1.1 503 "))
            #expect(answer.hasSuffix("\r\n\r\nnot ready: the store did not answer within 0.5 seconds\n"))
        }
        #expect(check.pings.load(ordering: .relaxed) == 1)
        // The hung check is not started again: the next probe waits for the same one, and is told the same.
        #expect(try await self.readyz(server).hasPrefix("HTTP/1.1 503 "))
        #expect(check.pings.load(ordering: .relaxed) == 1)
        // Once the store answers, the node is ready again.
        check.release()
        var answer = try await self.readyz(server)
        for _ in 0..<100 where !answer.hasPrefix("HTTP/1.1 200 ") {
            try await Task.sleep(for: .milliseconds(20))
            answer = try await self.readyz(server)
        }
        #expect(answer.hasSuffix("\r\n\r\nready\n"))
        await server.stopAndRemove()
    }

    @Test("During a graceful shutdown /readyz answers 503 'shutting down' while members are still served")
    func readinessWhileShuttingDown() async throws {
        let server = try await TestServer.start { $0.shutdownDelay = .seconds(5) }
        let owner = try await server.owner("alice")
        let bob = try await server.member("bob")
        #expect(try await self.get(server, "/readyz").status == 200)
        let stopping = Task { await server.stop() }
        var answer = try await self.get(server, "/readyz")
        for _ in 0..<100 where answer.status == 200 {
            try await Task.sleep(for: .milliseconds(20))
            answer = try await self.get(server, "/readyz")
        }
        #expect(answer.status == 503)
        #expect(answer.body == "not ready: shutting down\n")
        // The node still serves its members until the delay is over.
        _ = try await owner.connection.sendMessage("still here", to: self.general)
        #expect(try await bob.events.nextUpdate(TextFunction.messageLive).payload["message"]?.stringValue == "still here")
        await stopping.value
        // Then every member's connection is closed with 1001 "server shutting down" (PROTOCOL's close codes).
        try await bob.events.waitForClose()
        #expect(bob.connection.closeError == .connectionClosed(code: 1001, reason: "server shutting down"))
        try? FileManager.default.removeItem(at: server.directory)
    }

    @Test("/metrics after logins and sends: connections, logins by result, messages stored, deliveries, commit latency histogram")
    func metricsAfterUse() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner("alice")
        let bob = try await server.member("bob")
        // Every update so far has been written once Alice has Bob's coming online.
        #expect(try await owner.events.nextUpdate("presence").payload["online"] == .bool(true))
        // An identity that is no member: refused at identification.
        let stranger = try await server.connect()
        await expectError(.unknownUser) { _ = try await stranger.login(Identity.generate()) }
        await stranger.close()

        let before = try await self.get(server, "/metrics")
        #expect(before.status == 200)
        #expect(before.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let deliveriesBefore = try #require(Self.sample("commune_deliveries_total", in: before.body))
        #expect(Self.sample("commune_connections", in: before.body) == 2)

        for index in 1...3 {
            _ = try await owner.connection.sendMessage("message \(index)", to: self.general)
            _ = try await bob.events.nextUpdate(TextFunction.messageLive)
        }
        await bob.connection.close()
        #expect(try await owner.events.nextUpdate("presence").payload["online"] == .bool(false))
        var exposition = try await self.get(server, "/metrics").body
        for _ in 0..<100 where Self.sample("commune_connections", in: exposition) != 1 {
            try await Task.sleep(for: .milliseconds(20))
            exposition = try await self.get(server, "/metrics").body
        }
        #expect(Self.sample("commune_connections", in: exposition) == 1)
        #expect(Self.sample(#"commune_logins_total{result="success"}"#, in: exposition) == 2)
        #expect(Self.sample(#"commune_logins_total{result="refused"}"#, in: exposition) == 1)
        #expect(Self.sample(#"commune_logins_total{result="failed"}"#, in: exposition) == 0)
        #expect(Self.sample("commune_messages_stored_total", in: exposition) == 3)
        // Bob's three messages, and Alice's copy of Bob going offline.
        #expect(Self.sample("commune_deliveries_total", in: exposition) == deliveriesBefore + 4)
        let commits = try #require(Self.sample("commune_store_commit_seconds_count", in: exposition))
        #expect((1...3).contains(commits))
        #expect(Self.sample(#"commune_store_commit_seconds_bucket{le="+Inf"}"#, in: exposition) == commits)
        #expect(Self.sample(#"commune_store_commit_seconds_bucket{le="1.0"}"#, in: exposition) != nil)
        #expect(try #require(Self.sample("commune_store_commit_seconds_sum", in: exposition)) > 0)
        #expect(Self.sample("commune_fanout_queue_bytes", in: exposition) != nil)
        #expect(exposition.contains("# TYPE commune_store_commit_seconds histogram"))
        #expect(exposition.contains("# HELP commune_deliveries_total "))
        await owner.connection.close()
        await server.stopAndRemove()
    }

    @Test("/metrics is refused to a client relayed by an undeclared proxy and to a trusted proxy's public client; the token opens it")
    func metricsAccess() async throws {
        let plain = try await TestServer.start()
        #expect(try await self.get(plain, "/metrics").status == 200)
        // Loopback, but relaying someone: an undeclared proxy would pass its public clients off as local.
        let relayed = try await self.get(plain, "/metrics", headers: ["X-Forwarded-For": "203.0.113.7"])
        #expect(relayed.status == 403)
        #expect(!relayed.body.contains("commune_"))
        #expect(try await self.get(plain, "/metrics", headers: ["X-Real-IP": "203.0.113.7"]).status == 403)
        #expect(try await self.get(plain, "/metrics", headers: ["Authorization": "Bearer anything-at-all-here"]).status == 200)
        await plain.stopAndRemove()

        let token = "metrics-token-0123456789"
        let proxied = try await TestServer.start {
            $0.trustedProxies = ["127.0.0.1"]
            $0.metricsToken = token
        }
        // The trusted proxy's client is judged by the address it forwards.
        let publicClient = try await self.get(proxied, "/metrics", headers: ["X-Forwarded-For": "203.0.113.7"])
        #expect(publicClient.status == 401)
        #expect(publicClient.headers["www-authenticate"] == #"Bearer realm="metrics""#)
        #expect(!publicClient.body.contains("commune_"))
        #expect(try await self.get(proxied, "/metrics", headers: ["X-Forwarded-For": "127.0.0.1"]).status == 200)
        // A proxy that does not say whom it relays is not taken for this machine.
        #expect(try await self.get(proxied, "/metrics").status == 401)
        let wrong = try await self.get(proxied, "/metrics", headers: ["X-Forwarded-For": "203.0.113.7", "Authorization": "Bearer metrics-token-0123456788"])
        #expect(wrong.status == 401)
        let right = try await self.get(proxied, "/metrics", headers: ["X-Forwarded-For": "203.0.113.7", "Authorization": "Bearer \(token)"])
        #expect(right.status == 200)
        #expect(right.body.contains("commune_connections"))
        await proxied.stopAndRemove()
    }
}
