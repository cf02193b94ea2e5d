import ArgumentParser
import CommuneProtocol
import Foundation
import NIOCore
import NIOPosix

/// The load generator: a separate process that speaks Commune (or XMPP, or the bare broadcaster's frames) over
/// loopback and prints what the server achieved. See docs/BENCHMARKS.md.
@main
struct CommuneBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commune-bench",
        abstract: "Measure a Commune server (or Prosody, or the bare broadcaster) over loopback.",
        discussion: """
            Opens --clients connections, logs them in and puts them in one channel or room, then has --senders of \
            them send --messages each (at --rate messages/s over all senders, or unpaced with --window in flight per \
            sender). Prints deliveries/s, send→receive latency percentiles, the server's CPU per delivery and memory \
            (with --server-pid), and appends one JSON line to --json-out. Loopback only; bounded by --duration and \
            a hard deadline.
            """)

    @Option(help: "commune, bare or xmpp.") var `protocol`: String = "commune"
    @Option(help: "fanout (deliveries and latency; --messages 0 for idle connections only), ingest (acked messages/s), or history (get_messages pages).")
    var mode: String = "fanout"
    @Option(help: "Commune: the invite link (http://127.0.0.1:PORT/#invite=CODE); it must have --clients uses.") var invite: String?
    @Option(help: "bare: the WebSocket URL (ws://127.0.0.1:PORT/).") var url: String?
    @Option(help: "xmpp: host of the c2s port.") var host: String = "127.0.0.1"
    @Option(help: "xmpp: the c2s port.") var port: Int = 5222
    @Option(help: "xmpp: the server's domain.") var xmppDomain: String = "localhost"
    @Option(help: "xmpp: the room's JID.") var room: String = "bench@conference.localhost"
    @Option(help: "xmpp: accounts are PREFIX1 … PREFIXN.") var userPrefix: String = "u"
    @Option(help: "xmpp: the accounts' password.") var password: String = "pw"
    @Option(help: "Commune: the text channel, as path/name.") var channel: String = "General/General"
    @Option(help: "Commune: members register as PREFIX0, PREFIX1, … (another prefix for another run on the same community).")
    var namePrefix: String = "bench"
    @Option(help: "Commune: keep the members' identities in this file. When it does not exist, the members register and are written to it once all have logged in; when it does, its members log in again without registering (a returning crowd, as after a restart).")
    var identities: String?

    @Option(help: "Connections (members).") var clients: Int = 50
    @Option(help: "How many of them send.") var senders: Int = 1
    @Option(help: "Messages each sender sends.") var messages: Int = 1000
    @Option(help: "Messages per second over all senders; 0 = as fast as the window allows.") var rate: Double = 0
    @Option(help: "Unpaced: messages in flight per sender.") var window: Int = 16
    @Option(help: "Bytes of message text.") var size: Int = 64
    @Option(help: "Connections set up at once.") var concurrency: Int = 64
    @Option(help: "Seconds to wait after setup before reading the server's memory.") var settle: Double = 1
    @Option(help: "Longest the measured phase sends for, in seconds.") var duration: Double = 60
    @Option(help: "Seconds to wait for outstanding deliveries after the last send.") var drain: Double = 10
    @Option(help: "Longest connecting and logging in may take, in seconds.") var setupTimeout: Double = 300
    @Option(help: "During setup, print connections open and logged in to standard error every this many seconds (0: never).")
    var progress: Double = 0
    @Option(help: "Connect from this many loopback source addresses, 127.0.0.2 … 127.0.0.(N+1), in turn (each has about 28,000 ports towards one server port); 0: the kernel's choice.")
    var sourceAddresses: Int = 0
    @Option(help: "The server's process id, for CPU time and resident memory.") var serverPid: Int32?
    @Option(help: "Commune on a cluster: every node's port, comma-separated, the invite's first (fanout: senders on the first node, the others spread over the rest; ingest: everyone spread over all).")
    var ports: String?
    @Option(help: "The other nodes' process ids, comma-separated: their CPU time counts as the server's.") var otherServerPids: String?
    @Option(help: "The PostgreSQL postmaster's process id: its and its backends' CPU time is reported.") var postgresPid: Int32?

    @Option(help: "history: fill the channel to this many messages first (ingest from --senders).") var fillTo: Int = 0
    @Option(help: "history: page depths (newest messages skipped), comma-separated.")
    var depths: String = "0,50,1000,10000,100000,500000,999950"
    @Option(help: "history: pages timed per depth and style.") var pages: Int = 200

    @Option(help: "A label for the JSON line.") var label: String = ""
    @Option(help: "Append the figures as one JSON line to this file.") var jsonOut: String?

    func validate() throws {
        guard BenchConfiguration.WireProtocol(rawValue: self.protocol) != nil else {
            throw ValidationError("--protocol must be commune, bare or xmpp")
        }
        guard BenchConfiguration.Mode(rawValue: self.mode) != nil else {
            throw ValidationError("--mode must be fanout, ingest or history")
        }
        guard self.clients >= 1, self.clients <= 200_000 else { throw ValidationError("--clients must be 1 to 200000") }
        guard self.sourceAddresses >= 0, self.sourceAddresses <= 250 else { throw ValidationError("--source-addresses must be 0 to 250") }
        guard self.progress >= 0 else { throw ValidationError("--progress must not be negative") }
        guard self.senders >= 1, self.senders <= self.clients else { throw ValidationError("--senders must be 1 to --clients") }
        guard self.messages >= 0, self.window >= 1, self.concurrency >= 1 else {
            throw ValidationError("--messages, --window and --concurrency must be positive")
        }
        guard self.duration > 0, self.duration <= 3600 else { throw ValidationError("--duration must be at most 3600 s") }
        guard self.size >= 40, self.size <= 4000 else { throw ValidationError("--size must be 40 to 4000 bytes") }
    }

    func run() throws {
        var config = BenchConfiguration()
        config.wireProtocol = BenchConfiguration.WireProtocol(rawValue: self.protocol)!
        config.mode = BenchConfiguration.Mode(rawValue: self.mode)!
        switch config.wireProtocol {
        case .commune:
            guard let invite = self.invite, let link = InviteLink(invite) else {
                throw ValidationError("--invite must be an invite link like http://127.0.0.1:1984/#invite=CODE")
            }
            let (host, port) = try Self.hostAndPort(of: link.baseURL, defaultPort: 1984)
            config.host = host
            config.port = port
            config.inviteCode = link.code
            guard let address = ChannelAddress(slashed: self.channel) else { throw ValidationError("--channel is empty") }
            config.channel = address
            config.namePrefix = self.namePrefix
            if let path = self.identities {
                do {
                    config.identities = try BenchIdentities.load(path: path, count: self.clients)
                } catch {
                    throw ValidationError("--identities: \(error)")
                }
                config.identitiesPath = path
            }
            if let ports = self.ports {
                config.ports = ports.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard config.ports.first == port else { throw ValidationError("--ports must start with the invite's port \(port)") }
            }
        case .bare:
            guard let url = self.url else { throw ValidationError("--protocol bare needs --url ws://127.0.0.1:PORT/") }
            (config.host, config.port) = try Self.hostAndPort(of: url, defaultPort: 80)
        case .xmpp:
            config.host = self.host
            config.port = self.port
            config.xmppDomain = self.xmppDomain
            config.xmppRoom = self.room
            config.xmppUserPrefix = self.userPrefix
            config.xmppPassword = self.password
        }
        guard Loopback.isLoopback(config.host) else {
            throw ValidationError("refusing to send load to \(config.host): loopback addresses only (127.0.0.0/8, localhost, ::1)")
        }
        if config.host == "localhost" { config.host = "127.0.0.1" }
        if config.mode != .fanout || config.wireProtocol == .commune {
            guard config.mode == .fanout || config.wireProtocol == .commune else {
                throw ValidationError("--mode \(config.mode.rawValue) needs --protocol commune")
            }
        }
        if config.mode == .fanout && config.wireProtocol != .xmpp && self.messages > 0 && self.senders >= self.clients {
            throw ValidationError("fanout needs at least one member that does not send (it paces the senders)")
        }
        config.clients = self.clients
        config.senders = self.senders
        config.messagesPerSender = self.messages
        config.rate = self.rate
        config.window = self.window
        config.messageSize = self.size
        config.setupConcurrency = self.concurrency
        config.settleSeconds = self.settle
        config.duration = self.duration
        config.drainSeconds = self.drain
        config.setupTimeout = self.setupTimeout
        config.progressSeconds = self.progress
        config.sourceAddresses = self.sourceAddresses
        if self.sourceAddresses > 0 && !config.host.hasPrefix("127.") {
            throw ValidationError("--source-addresses needs the server on an IPv4 loopback address (127.x.x.x)")
        }
        config.serverPID = self.serverPid
        config.otherServerPIDs = (self.otherServerPids ?? "").split(separator: ",").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
        config.postgresPID = self.postgresPid
        config.fillTo = self.fillTo
        config.historyDepths = self.depths.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        config.historyPagesPerDepth = self.pages
        config.label = self.label

        // A socket per connection, and a few descriptors of the process's own: fail now, not at connection 19,950.
        let files = Self.raiseFileLimit()
        if let files, config.clients + 64 > files {
            throw ValidationError(
                "--clients \(config.clients) needs \(config.clients + 64) open files; this process may open \(files) "
                + "(its hard limit, `ulimit -Hn`: raising it takes CAP_SYS_RESOURCE)")
        }
        Self.armHardDeadline(after: config.setupTimeout + config.settleSeconds + config.duration + config.drainSeconds + 60)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let run = BenchRun(config: config, loop: group.next())
        let report: BenchReport
        do {
            report = try run.start().wait()
        } catch {
            Self.writeLine("commune-bench: \(error)", to: FileHandle.standardError)
            Foundation.exit(1)
        }
        Self.writeLine(report.text, to: FileHandle.standardOutput)
        if let path = self.jsonOut {
            var writer = JSONWriter(capacity: 1024)
            writer.write(report.json)
            try Self.append(writer.bytes + [0x0A], to: path)
        }
        // The connections close with the process: a graceful close of thousands of sockets measures nothing.
        Foundation.exit(report.complete ? 0 : 2)
    }

    static func hostAndPort(of url: String, defaultPort: Int) throws -> (String, Int) {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            throw ValidationError("cannot read a host from \(url)")
        }
        return (host, components.port ?? defaultPort)
    }

    /// Raises the soft limit on open files to the hard one; returns the limit in force.
    static func raiseFileLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        let soft = limit.rlim_cur
        limit.rlim_cur = limit.rlim_max
        return Int(clamping: setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? limit.rlim_max : soft)
    }

    /// Whatever happens, the process ends: setup, measurement and drain all have their own limits, and this is
    /// the one above them.
    static func armHardDeadline(after seconds: Double) {
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: seconds)
            Self.writeLine("commune-bench: hard deadline of \(Int(seconds)) s reached; stopping", to: FileHandle.standardError)
            Foundation.exit(3)
        }
    }

    /// One line on standard error (progress, warnings), from code that does not import Foundation.
    static func writeError(_ text: String) {
        self.writeLine(text, to: FileHandle.standardError)
    }

    static func writeLine(_ text: String, to handle: FileHandle) {
        handle.write(Data((text + "\n").utf8))
    }

    static func append(_ bytes: [UInt8], to path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw ValidationError("cannot write \(path)") }
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data(bytes))
    }
}
