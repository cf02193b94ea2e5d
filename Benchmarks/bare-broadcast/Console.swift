#if canImport(Glibc)
import Glibc
#endif

/// Unbuffered output: the bench script reads the listening line from a pipe while the server keeps running.
enum Console {
    static func line(_ text: String) { self.write(text + "\n", to: 1) }
    static func error(_ text: String) { self.write(text + "\n", to: 2) }

    private static func write(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { bytes in _ = Glibc.write(descriptor, bytes.baseAddress, bytes.count) }
    }
}
