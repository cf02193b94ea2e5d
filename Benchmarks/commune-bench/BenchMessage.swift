import NIOCore

/// The text of a benchmark message: `CB1.<send time ns>.<sender index>.` padded with `x` to the chosen size.
///
/// Only letters, digits and dots, so it travels unescaped in JSON and XML alike, and a receiver finds the send time
/// with one byte search (``ByteScan``) and no parsing of the frame around it.
enum BenchMessage {
    static let marker: [UInt8] = Array("CB1.".utf8)

    static func text(sendNanos: UInt64, sender: Int, size: Int) -> [UInt8] {
        var bytes = self.marker
        bytes.append(contentsOf: String(sendNanos).utf8)
        bytes.append(UInt8(ascii: "."))
        bytes.append(contentsOf: String(sender).utf8)
        bytes.append(UInt8(ascii: "."))
        if bytes.count < size { bytes.append(contentsOf: repeatElement(UInt8(ascii: "x"), count: size - bytes.count)) }
        return bytes
    }

    /// Every benchmark message in `buffer`'s readable bytes, as (send time, sender index).
    static func scan(_ buffer: ByteBuffer, _ visit: (UInt64, Int) -> Void) {
        var start = 0
        while let found = ByteScan.find(self.marker, in: buffer, from: start) {
            guard let time = ByteScan.number(in: buffer, at: found + self.marker.count),
                let sender = ByteScan.number(in: buffer, at: time.end + 1)
            else {
                start = found + self.marker.count
                continue
            }
            visit(time.value, Int(sender.value))
            start = sender.end
        }
    }
}

/// Monotonic time in nanoseconds: the same clock in the sender and the receiver, which share this process.
enum Monotonic {
    static func nanoseconds() -> UInt64 { NIODeadline.now().uptimeNanoseconds }
}
