import CommuneProtocol
import Foundation

/// Who is typing in the channel `commune tail` follows, on standard error, as the web client shows it: a member is
/// typing from their `member_typing` until ``expiry`` after the last one (PROTOCOL.md, `typing`) or until their
/// message arrives.
///
/// On a terminal it is one status line under the messages ("bob is typing…"), erased before each message is printed
/// and drawn again after it, and erased when nobody types. Otherwise (a pipe, a file) each change is a line of its
/// own: "bob is typing…" when someone starts, "bob stopped typing" when they stop.
actor TypingLine {
    /// How long an indicator lasts after the last `member_typing` (the protocol's 6 s).
    static let expiry: Duration = .seconds(6)

    private let terminal: Bool
    private let clock = ContinuousClock()
    /// Who types, in the order they started, with their name and when their indicator ends.
    private var typing: [(id: UUIDString, name: String, until: ContinuousClock.Instant)] = []
    /// The status line drawn on the terminal now ("" when none).
    private var drawn = ""

    init(terminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.terminal = terminal
    }

    /// A `member_typing` for member `id`, shown as `name`.
    func started(_ id: UUIDString, name: String) {
        let until = self.clock.now.advanced(by: Self.expiry)
        if let index = self.typing.firstIndex(where: { $0.id == id }) {
            self.typing[index].until = until
            return
        }
        self.typing.append((id, name, until))
        if !self.terminal { Output.error("\(name) is typing…") }
        self.redraw()
    }

    /// Member `id` stopped: their message arrived.
    func stopped(_ id: UUIDString) {
        guard let index = self.typing.firstIndex(where: { $0.id == id }) else { return }
        let gone = self.typing.remove(at: index)
        if !self.terminal { Output.error("\(gone.name) stopped typing") }
        self.redraw()
    }

    /// Drops the indicators whose time ran out.
    func expire() {
        let now = self.clock.now
        for entry in self.typing where entry.until <= now { self.stopped(entry.id) }
    }

    /// Everyone stopped (the connection was lost: nothing says when they stop).
    func clear() {
        for entry in self.typing { self.stopped(entry.id) }
    }

    /// Prints a message line on standard output with the status line kept under it.
    func print(_ line: String) {
        let shown = self.drawn
        if !shown.isEmpty { self.draw("") }
        Output.line(line)
        if !shown.isEmpty { self.draw(shown) }
    }

    /// "bob is typing…", "bob and carol are typing…", "bob, carol and 2 more are typing…", or "".
    static func text(_ names: [String]) -> String {
        switch names.count {
        case 0: return ""
        case 1: return "\(names[0]) is typing…"
        case 2: return "\(names[0]) and \(names[1]) are typing…"
        case 3: return "\(names[0]), \(names[1]) and \(names[2]) are typing…"
        default: return "\(names[0]), \(names[1]) and \(names.count - 2) more are typing…"
        }
    }

    private func redraw() {
        guard self.terminal else { return }
        self.draw(Self.text(self.typing.map(\.name)))
    }

    /// Replaces the terminal's status line (carriage return, erase the line) with `text`.
    private func draw(_ text: String) {
        guard self.terminal, text != self.drawn || text.isEmpty else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + text).utf8))
        self.drawn = text
    }
}
