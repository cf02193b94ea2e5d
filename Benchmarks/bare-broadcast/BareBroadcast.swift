// The bare broadcast baseline is being written; see docs/BENCHMARKS.md.
@main
struct BareBroadcast {
    static func main() {
        print("bare-broadcast: not built yet")
    }
}
