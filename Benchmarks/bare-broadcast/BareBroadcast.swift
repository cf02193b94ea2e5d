import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

#if canImport(Glibc)
import Glibc
#endif

/// The hardware baseline for Commune's fan-out: a WebSocket server with no authentication and no storage that
/// rebroadcasts every text frame it receives to every other connection.
///
/// Each received message is framed once into one buffer, that same buffer is written to every other member's
/// channel, and each channel is flushed once per event-loop turn (see ``BroadcastHub``). One event-loop thread:
/// the benchmark pins the server to one core, and a single loop keeps the hub free of locks.
///
/// Usage: `bare-broadcast [--host 127.0.0.1] [--port 1985]`. Loopback addresses only. Prints its URL, then
/// serves until it is sent SIGINT or SIGTERM.
@main
struct BareBroadcast {
    static func main() throws {
        var host = "127.0.0.1"
        var port = 1985
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--host": host = arguments.next() ?? host
            case "--port": port = arguments.next().flatMap(Int.init) ?? port
            case "-h", "--help":
                print("usage: bare-broadcast [--host 127.0.0.1] [--port 1985]")
                return
            default:
                Console.error("bare-broadcast: unknown argument \(argument)")
                exit(64)
            }
        }
        guard host == "localhost" || host == "::1" || host.hasPrefix("127.") else {
            Console.error("bare-broadcast: refusing to listen on \(host): loopback addresses only")
            exit(64)
        }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let hub = BroadcastHub(loop: loop)

        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 20,
            automaticErrorHandling: true,
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    // The writer sits in front of the frame encoder, so the hub's pre-framed buffers go straight
                    // to the socket.
                    let writer = RawFrameWriter()
                    try channel.pipeline.syncOperations.addHandler(writer, position: .first)
                    try channel.pipeline.syncOperations.addHandler(BroadcastHandler(hub: hub, writer: writer))
                }
            }
        )

        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(
                    withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                )
            }

        let channel = try bootstrap.bind(host: host, port: port).wait()
        let shownHost = host.contains(":") ? "[\(host)]" : host
        Console.line("bare-broadcast listening on ws://\(shownHost):\(channel.localAddress?.port ?? port)/")

        let stop: @convention(c) (Int32) -> Void = { _ in exit(0) }
        signal(SIGINT, stop)
        signal(SIGTERM, stop)
        try channel.closeFuture.wait()
        try group.syncShutdownGracefully()
    }
}
