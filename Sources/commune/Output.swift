import Foundation

/// Writes lines to standard output and flushes at once, so piped output (scripts, `tail`) is never held back.
enum Output {
    static func line(_ text: String = "") {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
