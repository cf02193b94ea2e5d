import Synchronization

/// A signal that opens once; everyone waiting on it, then or later, goes on.
final class OneShotSignal: Sendable {
    private struct State {
        var isOpen = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    init(open: Bool = false) {
        self.state = Mutex(State(isOpen: open))
    }

    /// A signal that is open from the start.
    static let opened = OneShotSignal(open: true)

    /// Opens the signal (a second call does nothing).
    func open() {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.isOpen else { return [] }
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Whether the signal has opened.
    var isOpen: Bool { self.state.withLock { $0.isOpen } }

    /// Returns once the signal is open.
    func wait() async {
        if self.isOpen { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let openAlready = self.state.withLock { state -> Bool in
                if state.isOpen { return true }
                state.waiters.append(continuation)
                return false
            }
            if openAlready { continuation.resume() }
        }
    }
}
