// The load generator is being written; see docs/BENCHMARKS.md.
@main
struct CommuneBench {
    static func main() {
        print("commune-bench: not built yet")
    }
}
