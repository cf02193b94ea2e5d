import CommuneProtocol
import Histogram

/// Percentiles of a latency histogram recorded in microseconds, shown in milliseconds.
struct LatencySummary: Sendable {
    var count: UInt64
    var p50: Double
    var p99: Double
    var p999: Double
    var max: Double

    init(_ histogram: Histogram<UInt64>) {
        self.count = histogram.totalCount
        self.p50 = Double(histogram.valueAtPercentile(50)) / 1000
        self.p99 = Double(histogram.valueAtPercentile(99)) / 1000
        self.p999 = Double(histogram.valueAtPercentile(99.9)) / 1000
        self.max = Double(histogram.max) / 1000
    }

    static func makeHistogram() -> Histogram<UInt64> {
        // 1 µs to 10 minutes, three significant digits.
        Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    }

    var text: String {
        "p50 \(Self.ms(self.p50))  p99 \(Self.ms(self.p99))  p99.9 \(Self.ms(self.p999))  max \(Self.ms(self.max)) ms"
    }

    var json: JSONValue {
        [
            "count": .int(Int64(self.count)), "p50_ms": .double(Self.round(self.p50)),
            "p99_ms": .double(Self.round(self.p99)), "p999_ms": .double(Self.round(self.p999)),
            "max_ms": .double(Self.round(self.max)),
        ]
    }

    static func ms(_ value: Double) -> String {
        value < 10 ? String(Self.round(value)) : String(Int(value.rounded()))
    }

    static func round(_ value: Double) -> Double {
        (value * 1000).rounded() / 1000
    }
}
