import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// On the listening channel: when `accept` fails for want of descriptors or memory (`EMFILE`, `ENFILE`, `ENOBUFS`,
/// `ENOMEM`), the server stops watching the listening socket for ``pause`` and then tries again, instead of retrying
/// the failing `accept` in a tight loop on one event loop thread. Connections keep waiting in the kernel's backlog
/// meanwhile, and are accepted within a pause once descriptors are free. Logged once per episode, when it starts and
/// when accepting works again; failures within ``quietPeriod`` of the last episode's end (a recovering server often
/// fills its free descriptors again at once) are not logged again.
///
/// swift-nio's own `AcceptBackoffHandler`, which its bootstrap installs, cannot do this: it delays the channel's next
/// `read()`, but after a failed `accept` the server channel keeps its read pending and stays registered for
/// readability, so no `read()` ever comes and the selector wakes the loop again at once for the connection still
/// waiting in the backlog. Turning `autoRead` off unregisters the socket from the selector; turning it on again
/// registers it (and reads). Install it first in the server channel's pipeline (``install(on:logger:)``), in front of
/// swift-nio's handler, which swallows these errors. Used on the channel's event loop only.
final class AcceptBackoff: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel
    typealias OutboundIn = Never
    typealias OutboundOut = Never

    /// How long the listening socket rests after a failed `accept`.
    let pause: TimeAmount
    let logger: Logger
    /// Set while the listening socket rests: the task that wakes it.
    private var resumption: Scheduled<Void>?
    /// Since when `accept` has been failing, how often it failed, and whether that was logged; `nil` while it works.
    private var episode: (since: NIODeadline, failures: Int, logged: Bool)?
    /// When `accept` last worked again after failing.
    private var lastRecovery: NIODeadline?

    /// How long after recovering a new episode stays out of the log.
    static let quietPeriod = TimeAmount.seconds(60)

    init(pause: TimeAmount = .seconds(1), logger: Logger) {
        self.pause = pause
        self.logger = logger
    }

    /// Puts a backoff first in `serverChannel`'s pipeline.
    static func install(on serverChannel: any Channel, pause: TimeAmount = .seconds(1), logger: Logger) async throws {
        try await serverChannel.eventLoop.submit {
            try serverChannel.pipeline.syncOperations.addHandler(AcceptBackoff(pause: pause, logger: logger), position: .first)
        }.get()
    }

    /// The `accept` errors that a pause can cure: the process's or the system's descriptors, or socket memory, are
    /// used up.
    static func isExhaustion(_ error: any Error) -> Bool {
        guard let error = error as? IOError else { return false }
        return [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errnoCode)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard Self.isExhaustion(error) else {
            context.fireErrorCaught(error)
            return
        }
        if self.episode == nil {
            let logged = self.lastRecovery.map { NIODeadline.now() - $0 >= Self.quietPeriod } ?? true
            self.episode = (.now(), 0, logged)
            if logged {
                self.logger.warning(
                    "Cannot accept connections: \(Self.cause(of: error)). Trying again every \(self.pause.nanoseconds / 1_000_000) ms; waiting connections stay queued. Raise the open file limit (ulimit -n, LimitNOFILE=) if this recurs"
                )
            }
        }
        self.episode?.failures += 1
        self.rest(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let episode = self.episode {
            self.episode = nil
            self.lastRecovery = .now()
            if episode.logged {
                let tenths = (NIODeadline.now() - episode.since).nanoseconds / 100_000_000
                self.logger.notice(
                    "Accepting connections again after \(tenths / 10).\(tenths % 10) s (\(episode.failures) failed accept\(episode.failures == 1 ? "" : "s"))"
                )
            }
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        // While resting, a read would register the socket with the selector again; the wake-up reads instead.
        guard self.resumption == nil else { return }
        context.read()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.resumption?.cancel()
        self.resumption = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        guard let resumption = self.resumption else { return }
        resumption.cancel()
        self.resume(context: context)
    }

    /// Stops watching the listening socket until ``pause`` has passed.
    private func rest(context: ChannelHandlerContext) {
        guard self.resumption == nil, let options = context.channel.syncOptions else { return }
        do {
            try options.setOption(ChannelOptions.autoRead, value: false)
        } catch {
            return
        }
        self.resumption = context.eventLoop.assumeIsolated().scheduleTask(in: self.pause) {
            self.resume(context: context)
        }
    }

    private func resume(context: ChannelHandlerContext) {
        self.resumption = nil
        try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
    }

    private static func cause(of error: any Error) -> String {
        switch (error as? IOError)?.errnoCode {
        case EMFILE: "the process has as many files open as its limit allows (EMFILE)"
        case ENFILE: "the system has as many files open as it allows (ENFILE)"
        case ENOBUFS: "the system is out of socket buffers (ENOBUFS)"
        default: "the system is out of memory for sockets (ENOMEM)"
        }
    }
}
