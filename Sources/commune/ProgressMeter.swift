import CommuneMigration
import Foundation
import Synchronization

/// The copy's progress on standard error: a bar redrawn in place on a terminal (table, rows done of total, rate),
/// else a plain line per table and at most one a second in between.
final class ProgressMeter: Sendable {
    private struct State {
        var table = ""
        var tableStart = ContinuousClock.now
        var lastLine = ContinuousClock.now
        var drawn = false
    }

    private let terminal: Bool
    private let state = Mutex(State())

    init(terminal: Bool) { self.terminal = terminal }

    func show(_ progress: StoreMigration.Progress) {
        self.state.withLock { state in
            let now = ContinuousClock.now
            if progress.table != state.table {
                if state.drawn && self.terminal { FileHandle.standardError.write(Data("\n".utf8)) }
                state.table = progress.table
                state.tableStart = now
                state.lastLine = now
                state.drawn = false
            }
            let seconds = (now - state.tableStart).inSeconds
            let rate = seconds > 0 ? Int(Double(progress.done) / seconds) : 0
            let finished = progress.done >= progress.total
            let text = "\(progress.table.padding(toLength: 13, withPad: " ", startingAt: 0)) \(progress.done)/\(progress.total) rows, \(rate) rows/s"
            if self.terminal {
                let filled = progress.total == 0 ? 30 : 30 * progress.done / progress.total
                let bar = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: 30 - filled) + "] "
                FileHandle.standardError.write(Data(("\r\u{1B}[K" + bar + text).utf8))
                state.drawn = true
            } else if finished || now - state.lastLine >= .seconds(1) {
                FileHandle.standardError.write(Data(("migrate-store: " + text + "\n").utf8))
                state.lastLine = now
            }
        }
    }

    /// Ends the bar's line.
    func end() {
        self.state.withLock { state in
            if state.drawn && self.terminal { FileHandle.standardError.write(Data("\n".utf8)) }
            state.drawn = false
        }
    }
}
