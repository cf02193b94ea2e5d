import CommuneProtocol
import NIOCore

/// Everything one run of the load generator needs, decided before the first connection opens.
struct BenchConfiguration: Sendable {
    /// The server's protocol.
    enum WireProtocol: String, Sendable, CaseIterable {
        /// Commune over WebSocket: register with an invite, log in by challenge, `send_message`.
        case commune
        /// The bare broadcaster: connect, send text frames, receive the others'.
        case bare
        /// XMPP c2s over TCP to a multi-user chat room (Prosody): SASL PLAIN, bind, join, groupchat.
        case xmpp
    }

    /// What the run measures.
    enum Mode: String, Sendable, CaseIterable {
        /// S of N members send M messages each; deliveries, latency, server CPU per delivery. With M = 0: connect,
        /// log in and measure memory per idle connection only.
        case fanout
        /// Every member sends, each keeping `window` unacknowledged messages in flight: acknowledged
        /// (`message_received`) messages per second.
        case ingest
        /// Fill the channel to `fillTo` messages (if it holds fewer), then time `get_messages` pages at depths.
        case history
    }

    var wireProtocol: WireProtocol = .commune
    var mode: Mode = .fanout
    var host = "127.0.0.1"
    var port = 1984
    /// Commune on a cluster: every node's port (`--ports`), the first being `port`. Fan-out puts the senders on the
    /// first node and the other members on the rest, in turn; ingest spreads everyone over all nodes in turn.
    var ports: [Int] = []
    /// The invite code (Commune).
    var inviteCode = ""
    /// Commune: members register as PREFIX0, PREFIX1, … (runs on one community need prefixes of their own: look-alike
    /// names are refused).
    var namePrefix = "bench"
    /// Commune: `--identities FILE`: where the members' identities are kept between runs, and those identities
    /// (``BenchIdentities``: read from the file, or new and written to it once every member has logged in).
    var identitiesPath: String?
    var identities: BenchIdentities?
    /// The text channel (Commune).
    var channel = ChannelAddress(path: "General", name: "General")
    /// XMPP: the server's domain, the room's JID, account names `prefix1…prefixN`, their password.
    var xmppDomain = "localhost"
    var xmppRoom = "bench@conference.localhost"
    var xmppUserPrefix = "u"
    var xmppPassword = "pw"

    var clients = 50
    var senders = 1
    /// Messages each sender sends.
    var messagesPerSender = 1000
    /// Messages per second over all senders; 0 sends as fast as the window allows.
    var rate: Double = 0
    /// Unpaced runs: how many of a sender's messages may be in flight (not yet seen by the tracking receiver, or
    /// not yet acknowledged in ingest mode).
    var window = 16
    /// Bytes of message text (at least the timestamp marker's length).
    var messageSize = 64
    /// Connections opening or logging in at once during setup.
    var setupConcurrency = 64
    /// Seconds to wait after setup before reading the server's memory.
    var settleSeconds: Double = 1
    /// Longest the measured phase may send for, in seconds.
    var duration: Double = 60
    /// How long to wait for outstanding deliveries after the last send, in seconds.
    var drainSeconds: Double = 10
    /// Longest connecting and logging in may take, in seconds.
    var setupTimeout: Double = 300
    /// During setup, print how many connections are open and logged in every this many seconds (0: not at all).
    var progressSeconds: Double = 0
    /// Connect from this many loopback source addresses, 127.0.0.2 … 127.0.0.(N+1), client `index` from the
    /// (index mod N)-th: one source address has only `ip_local_port_range`'s ports (about 28,000) towards one server
    /// port. 0 lets the kernel choose (127.0.0.1 towards 127.0.0.1).
    var sourceAddresses = 0

    var serverPID: Int32?
    /// The other nodes' process ids: their CPU time counts as the server's.
    var otherServerPIDs: [Int32] = []
    /// The PostgreSQL server's postmaster: its CPU time and its processes' is reported apart.
    var postgresPID: Int32?

    /// History mode.
    var fillTo = 0
    var historyDepths: [Int] = [0, 50, 1000, 10000, 100_000, 500_000, 999_950]
    var historyPagesPerDepth = 200
    var historyPageSize = 50

    var label = ""

    /// The port client `index` connects to.
    func port(for index: Int) -> Int {
        guard self.ports.count > 1 else { return self.port }
        if self.mode == .fanout {
            return index < self.senders ? self.ports[0] : self.ports[1 + (index - self.senders) % (self.ports.count - 1)]
        }
        return self.ports[index % self.ports.count]
    }

    /// Commune: the name client `index` registers with, its number zero-padded to the width of the largest
    /// (bench00042 of 100,000), so that the member list's order (by name) is the order of registration. Unpadded,
    /// bench10000 … bench10999 sort between bench1000 and bench1001, onto the first page of the member list that every
    /// connection shows from login, and each of their logins is announced to every connection online.
    func username(for index: Int) -> String {
        let number = String(index)
        let width = String(max(0, self.clients - 1)).count
        return self.namePrefix + String(repeating: "0", count: max(0, width - number.count)) + number
    }

    /// The local address client `index` binds to before connecting, if ``sourceAddresses`` asks for one.
    func sourceAddress(for index: Int) throws -> SocketAddress? {
        guard self.sourceAddresses > 0 else { return nil }
        return try SocketAddress(ipAddress: "127.0.0.\(2 + index % self.sourceAddresses)", port: 0)
    }

    /// How many members receive each message: everyone else, or (XMPP, which reflects the sender's own
    /// groupchat message back) everyone.
    var receiversPerMessage: Int {
        self.wireProtocol == .xmpp ? self.clients : self.clients - 1
    }
}
