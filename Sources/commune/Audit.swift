import ArgumentParser
import CommuneClient
import CommuneProtocol
import Foundation

/// `commune audit`: who changed what, newest first (needs manage_community).
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the audit log of moderation and structure changes, newest first.")

    @OptionGroup var client: ClientOptions

    @Option(help: "How many entries (1 to 1000).") var amount: Int64 = 50

    func run() async throws {
        let (connection, _, _) = try await self.client.connect()
        try await closing(connection) {
            let log = try await orExit { try await connection.community("get_audit_log", ["amount": .int(self.amount)]) }
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
            for entry in log.payload["entries"]?.arrayValue ?? [] {
                let time = Date(timeIntervalSince1970: Double(entry["time"]?.intValue ?? 0) / 1000)
                let action = entry["action"]?.stringValue ?? "other"
                Output.line("\(formatter.string(from: time))  \(action)  \(entry["actor_name"]?.stringValue ?? "?"): \(entry["text"]?.stringValue ?? "")")
            }
        }
    }
}
