import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Gives freed heap back to the kernel every `period`.
///
/// glibc keeps what a burst freed (thousands of logins, each announced to every member, say) in its arenas, so
/// without this an idle server's resident memory stays at its peak: with 3,000 idle connections, 243 MB before a
/// trim and 129 MB after. A trim of a few hundred megabytes takes milliseconds.
struct HeapTrimmer: Service {
    let period: Duration

    /// glibc's `malloc_trim`, looked up at run time (its header is not part of the Glibc module); `nil` elsewhere.
    private static let trim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
        return nil
        #endif
    }()

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: self.period)
                } catch {
                    return
                }
                _ = Self.trim?(0)
            }
        }
    }
}
