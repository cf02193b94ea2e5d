/// Lets a connection start its next request as soon as the current request's write is queued in the store.
///
/// A connection runs a pipelined function (one declared with ``FunctionSpec/pipelined``, such as `send_message`)
/// inside ``withSignal(_:operation:)``; a store calls ``queued()`` once a write has its place in its commit queue,
/// so that the next write of the same connection is queued, and committed, after it. Handlers never see this:
/// they call the store as usual, and the connection still applies their effects in request order.
public enum PipelinedWrite {
    @TaskLocal static var signal: (@Sendable () -> Void)?

    /// Runs `operation` with `signal` as the current task's "write queued" signal.
    public static func withSignal<Result: Sendable>(
        _ signal: @escaping @Sendable () -> Void,
        operation: () async throws -> Result
    ) async rethrows -> Result {
        try await self.$signal.withValue(signal, operation: operation)
    }

    /// Called by a store once the current task's write is queued: the connection may start its next request.
    public static func queued() {
        self.signal?()
    }
}
