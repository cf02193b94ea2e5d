import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit on open file descriptors (`RLIMIT_NOFILE`): every connection holds one.
enum DescriptorLimit {
    /// Raises the soft limit to the hard limit where allowed, and returns the limit in force (`nil`: unknown).
    @discardableResult
    static func raise() -> Int? {
        var limit = rlimit()
        guard getrlimit(resourceNOFILE, &limit) == 0 else { return nil }
        var wanted = limit.rlim_max
        #if canImport(Darwin)
        // macOS refuses more than OPEN_MAX for an unlimited hard limit.
        wanted = min(wanted, rlim_t(OPEN_MAX))
        #endif
        if limit.rlim_cur < wanted {
            var raised = limit
            raised.rlim_cur = wanted
            if setrlimit(resourceNOFILE, &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// Raises the limit and says what it is, and how it compares with the connection limits.
    static func raiseAndLog(limits: ConnectionLimits, logger: Logger) {
        guard let limit = Self.raise() else {
            logger.warning("The open file limit could not be read")
            return
        }
        func shown(_ value: Int) -> String { value >= Int(Int32.max) ? "no limit" : "\(value)" }
        logger.info(
            "Open file limit: \(shown(limit)); connections before login: \(shown(limits.maxConnectionsBeforeLogin)), per address: \(shown(limits.maxConnectionsPerAddress))"
        )
        if limit / 2 < limits.maxConnectionsBeforeLogin {
            logger.notice(
                "The open file limit (\(shown(limit))) leaves little room for members beyond the \(limits.maxConnectionsBeforeLogin) connections allowed before login; raise it (ulimit -n, LimitNOFILE=) or lower the pool"
            )
        }
    }

    #if canImport(Glibc)
    private static let resourceNOFILE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resourceNOFILE = RLIMIT_NOFILE
    #endif
}
