import CommuneProtocol

/// The figures of one run: printed for people and appended to `--json-out` as one JSON line.
struct BenchReport: Sendable {
    var configuration: BenchConfiguration
    var complete = true
    var notes: [String] = []

    var setupSeconds: Double?
    var loginSeconds: Double?
    /// The servers' CPU time from the first login to the last.
    var loginServerCPUSeconds: Double?
    var serverRSSBaselineKiB: Int?
    var serverRSSIdleKiB: Int?
    /// The generator's own resident memory when the server's was read (it holds the other end of every connection).
    var generatorRSSIdleKiB: Int?

    var messagesSent = 0
    var deliveries = 0
    var expectedDeliveries = 0
    var deliverySeconds: Double?
    var latency: LatencySummary?
    var acknowledged = 0
    var ackSeconds: Double?
    var ackLatency: LatencySummary?
    var serverCPUSeconds: Double?
    /// PostgreSQL's CPU time over the measured phase (its postmaster and backends).
    var postgresCPUSeconds: Double?
    var serverRSSEndKiB: Int?
    var serverErrors = 0
    var disconnects = 0

    struct HistoryDepth: Sendable {
        var depth: Int
        var byOffset: LatencySummary
        var byBefore: LatencySummary?
    }
    var historyMessages: Int64?
    var history: [HistoryDepth] = []
    var historyAll: LatencySummary?

    init(configuration: BenchConfiguration) {
        self.configuration = configuration
    }

    var clients: Int { self.configuration.clients }

    /// The servers' CPU time per login (registration included when the members registered), in milliseconds.
    var loginCPUPerLoginMilliseconds: Double? {
        guard let cpu = self.loginServerCPUSeconds, self.configuration.clients > 0 else { return nil }
        return cpu * 1000 / Double(self.configuration.clients)
    }

    var loginsPerSecond: Double? {
        // The bare broadcaster has no login.
        guard self.configuration.wireProtocol != .bare, let seconds = self.loginSeconds, seconds > 0 else { return nil }
        return Double(self.clients) / seconds
    }

    var rssPerConnectionKiB: Double? {
        guard let base = self.serverRSSBaselineKiB, let idle = self.serverRSSIdleKiB, self.clients > 0 else { return nil }
        return Double(idle - base) / Double(self.clients)
    }

    var deliveriesPerSecond: Double? {
        guard let seconds = self.deliverySeconds, seconds > 0, self.deliveries > 0 else { return nil }
        return Double(self.deliveries) / seconds
    }

    var acknowledgedPerSecond: Double? {
        guard let seconds = self.ackSeconds, seconds > 0, self.acknowledged > 0 else { return nil }
        return Double(self.acknowledged) / seconds
    }

    /// Server CPU time per delivery, in microseconds.
    var cpuMicrosPerDelivery: Double? {
        guard let cpu = self.serverCPUSeconds, self.deliveries > 0 else { return nil }
        return cpu * 1_000_000 / Double(self.deliveries)
    }

    /// Server CPU time per acknowledged message, in microseconds.
    var cpuMicrosPerAck: Double? {
        guard let cpu = self.serverCPUSeconds, self.acknowledged > 0 else { return nil }
        return cpu * 1_000_000 / Double(self.acknowledged)
    }

    var text: String {
        let config = self.configuration
        var lines: [String] = []
        let pacing = config.rate > 0 ? "\(Self.format(config.rate)) msg/s" : "unpaced (window \(config.window))"
        lines.append(
            "commune-bench \(config.wireProtocol.rawValue) \(config.mode.rawValue)\(config.label.isEmpty ? "" : " [\(config.label)]"): "
                + "\(config.clients) clients, \(config.senders) senders"
                + (config.mode == .history ? "" : " × \(config.messagesPerSender) messages, \(pacing)")
                + ", \(config.messageSize)-byte text")
        if let seconds = self.setupSeconds { lines.append("  setup:           \(Self.format(seconds)) s") }
        if let rate = self.loginsPerSecond {
            let what = config.wireProtocol == .xmpp ? "room joins" : "logins"
            var line = "  \(what):\(String(repeating: " ", count: max(1, 16 - what.count)))\(Self.format(rate))/s"
            if config.wireProtocol == .commune {
                line += config.identities?.returning == true ? " (registered members logging in again)" : " (each registers, then logs in)"
            }
            if let cpu = self.loginCPUPerLoginMilliseconds {
                line += ", server CPU \(Self.format(cpu)) ms per \(config.wireProtocol == .xmpp ? "room join" : "login")"
            }
            lines.append(line)
        }
        if let perConnection = self.rssPerConnectionKiB, let idle = self.serverRSSIdleKiB {
            lines.append("  server RSS:      \(idle) KiB with \(config.clients) idle connections, \(Self.format(perConnection)) KiB each")
        }
        if let own = self.generatorRSSIdleKiB {
            lines.append("  generator RSS:   \(own) KiB, \(Self.format(Double(own) / Double(config.clients))) KiB per connection")
        }
        if self.messagesSent > 0 {
            lines.append("  sent:            \(self.messagesSent) messages")
            lines.append("  deliveries:      \(self.deliveries) of \(self.expectedDeliveries) expected")
            if let rate = self.deliveriesPerSecond { lines.append("  deliveries/s:    \(Self.format(rate))") }
            if let latency = self.latency { lines.append("  send→receive:    \(latency.text)") }
            if config.wireProtocol == .commune {
                lines.append("  acknowledged:    \(self.acknowledged)")
                if let rate = self.acknowledgedPerSecond { lines.append("  acked/s:         \(Self.format(rate))") }
                if let latency = self.ackLatency { lines.append("  send→ack:        \(latency.text)") }
            }
            if let cpu = self.serverCPUSeconds {
                var line = "  server CPU:      \(Self.format(cpu)) s"
                if let perDelivery = self.cpuMicrosPerDelivery { line += ", \(Self.format(perDelivery)) µs per delivery" }
                if config.mode != .fanout, let perAck = self.cpuMicrosPerAck { line += ", \(Self.format(perAck)) µs per acked message" }
                lines.append(line)
            }
            if let cpu = self.postgresCPUSeconds {
                var line = "  PostgreSQL CPU:  \(Self.format(cpu)) s"
                if self.deliveries > 0 { line += ", \(Self.format(cpu * 1_000_000 / Double(self.deliveries))) µs per delivery" }
                if self.acknowledged > 0 { line += ", \(Self.format(cpu * 1_000_000 / Double(self.acknowledged))) µs per acked message" }
                lines.append(line)
            }
            if let rss = self.serverRSSEndKiB { lines.append("  server RSS end:  \(rss) KiB") }
        }
        if let total = self.historyMessages {
            lines.append("  history:         \(total) messages in the channel, pages of \(config.historyPageSize)")
            for depth in self.history {
                var line = "    depth \(depth.depth): loaded_messages \(depth.byOffset.text)"
                if let before = depth.byBefore { line += "; before \(before.text)" }
                lines.append(line)
            }
            if let all = self.historyAll { lines.append("    all pages:     \(all.text)") }
        }
        if self.serverErrors > 0 { lines.append("  server errors:   \(self.serverErrors)") }
        if self.disconnects > 0 { lines.append("  disconnects:     \(self.disconnects)") }
        if !self.complete { lines.append("  INCOMPLETE") }
        for note in self.notes { lines.append("  note: \(note)") }
        return lines.joined(separator: "\n")
    }

    var json: JSONValue {
        let config = self.configuration
        var object: [String: JSONValue] = [
            "protocol": .string(config.wireProtocol.rawValue), "mode": .string(config.mode.rawValue),
            "label": .string(config.label), "clients": .int(Int64(config.clients)),
            "senders": .int(Int64(config.senders)), "messages_per_sender": .int(Int64(config.messagesPerSender)),
            "rate": .double(config.rate), "window": .int(Int64(config.window)),
            "message_size": .int(Int64(config.messageSize)), "complete": .bool(self.complete),
            "messages_sent": .int(Int64(self.messagesSent)), "deliveries": .int(Int64(self.deliveries)),
            "expected_deliveries": .int(Int64(self.expectedDeliveries)),
            "acknowledged": .int(Int64(self.acknowledged)), "server_errors": .int(Int64(self.serverErrors)),
            "disconnects": .int(Int64(self.disconnects)),
            "notes": .array(self.notes.map { .string($0) }),
        ]
        func put(_ key: String, _ value: Double?) {
            if let value { object[key] = .double((value * 1000).rounded() / 1000) }
        }
        func put(_ key: String, _ value: Int?) {
            if let value { object[key] = .int(Int64(value)) }
        }
        put("setup_s", self.setupSeconds)
        put("logins_per_s", self.loginsPerSecond)
        put("server_cpu_ms_per_login", self.loginCPUPerLoginMilliseconds)
        if self.configuration.wireProtocol == .commune {
            object["returning_members"] = .bool(self.configuration.identities?.returning == true)
        }
        put("server_rss_baseline_kib", self.serverRSSBaselineKiB)
        put("server_rss_idle_kib", self.serverRSSIdleKiB)
        put("rss_per_connection_kib", self.rssPerConnectionKiB)
        put("generator_rss_idle_kib", self.generatorRSSIdleKiB)
        put("deliveries_per_s", self.deliveriesPerSecond)
        put("acked_per_s", self.acknowledgedPerSecond)
        put("server_cpu_s", self.serverCPUSeconds)
        put("cpu_us_per_delivery", self.cpuMicrosPerDelivery)
        put("cpu_us_per_ack", self.cpuMicrosPerAck)
        put("server_rss_end_kib", self.serverRSSEndKiB)
        put("postgres_cpu_s", self.postgresCPUSeconds)
        if let latency = self.latency { object["latency"] = latency.json }
        if let latency = self.ackLatency { object["ack_latency"] = latency.json }
        if let total = self.historyMessages {
            object["history_messages"] = .int(total)
            object["history"] = .array(
                self.history.map { depth in
                    var entry: [String: JSONValue] = ["depth": .int(Int64(depth.depth)), "loaded_messages": depth.byOffset.json]
                    if let before = depth.byBefore { entry["before"] = before.json }
                    return .object(entry)
                })
            if let all = self.historyAll { object["history_all"] = all.json }
        }
        return .object(object)
    }

    static func format(_ value: Double) -> String {
        if value >= 100 { return String(Int(value.rounded())) }
        if value >= 10 { return String((value * 10).rounded() / 10) }
        return String((value * 100).rounded() / 100)
    }
}
