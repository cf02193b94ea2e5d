import CommuneClient
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

/// Runs `body`, then closes `connection` and waits until it is closed, also when `body` throws: a command ends
/// with a clean WebSocket close, never with a close left to a task the exiting process does not run.
func closing<Result>(_ connection: CommuneConnection, _ body: () async throws -> Result) async throws -> Result {
    do {
        let result = try await body()
        await connection.close()
        return result
    } catch {
        await connection.close()
        throw error
    }
}
