import Foundation
import Testing

/// What a `commune` command run to its end (``runCommune(_:)``) left: its exit status and its two outputs.
struct CommandOutcome {
    var status: Int32
    var output: String
    var errors: String
}

/// Runs the `commune` executable built beside the test bundle with `arguments`, in a `HOME` of its own, and waits
/// (at most 60 s: a debug build on a busy machine) for it to end.
func runCommune(_ arguments: [String]) async throws -> CommandOutcome {
    let build = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    let binary = build.appendingPathComponent("commune")
    guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw TestFailure("\(binary.path) is missing: swift build first") }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("commune-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("out"), errors = folder.appendingPathComponent("err")
    for file in [output, errors] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.environment = ["HOME": folder.path, "PATH": "/usr/bin:/bin"]
    process.standardOutput = try FileHandle(forWritingTo: output)
    process.standardError = try FileHandle(forWritingTo: errors)
    try process.run()
    for _ in 0..<600 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
    guard !process.isRunning else {
        process.terminate()
        throw TestFailure("commune \(arguments.joined(separator: " ")) did not end within 60 s")
    }
    return CommandOutcome(
        status: process.terminationStatus,
        output: (try? String(contentsOf: output, encoding: .utf8)) ?? "",
        errors: (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
    )
}
