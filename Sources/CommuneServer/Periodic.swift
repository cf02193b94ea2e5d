import ServiceLifecycle

/// Runs `body` every `period` until the task is cancelled or the server shuts down gracefully (the services that
/// work once a second: ``ReadMarkFlusher``, ``MemberCountsTicker``).
func repeatEvery(_ period: Duration, _ body: @escaping @Sendable () async -> Void) async {
    await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: period)
            } catch {
                break
            }
            await body()
        }
    }
}
