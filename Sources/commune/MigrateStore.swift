import ArgumentParser
import CommuneMigration
import CommunePostgres
import Foundation
import Logging

/// `commune migrate-store`: copies the community in a data folder's SQLite file to an empty PostgreSQL database
/// (``StoreMigration``), for `commune serve --database`.
struct MigrateStore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-store",
        abstract: "Copy a community from a data folder's SQLite file to an empty PostgreSQL database.",
        discussion: """
            Everything is copied (settings and the community key, members and their keys, the channel tree, groups, \
            invites, bans, messages, reactions, pins, read marks, mentions, attachments' details, the audit log) in \
            one transaction, and the row counts are compared table by table before it commits: a failed copy leaves \
            the database empty. The SQLite file is only read (a server may keep running on it; the copy is the \
            community as it was when the copy began). Members log in again (sessions are not copied). Attachments' \
            files stay in the data folder: start every node with --data on that folder or a shared copy of it.
            """
    )

    @Option(help: ArgumentHelp("The data folder of the community to copy (its commune.sqlite).", valueName: "data-folder"))
    var from: String

    @Option(
        help: ArgumentHelp(
            "The empty PostgreSQL database to copy to (default: $COMMUNE_DATABASE_URL, the place for a password), e.g. postgres://commune@db.example.org/commune.",
            valueName: "postgres-url"
        )
    )
    var to: String?

    func run() async throws {
        guard let url = self.to ?? ProcessInfo.processInfo.environment["COMMUNE_DATABASE_URL"], !url.isEmpty else {
            throw CommandFailure("Name the database to copy to: --to postgres://… or $COMMUNE_DATABASE_URL.")
        }
        let address: PostgresAddress
        do {
            address = try PostgresAddress(url: url)
        } catch {
            throw CommandFailure("--to: \(error)")
        }
        let folder = URL(fileURLWithPath: self.from).standardizedFileURL
        var logger = Logger(label: "commune.postgres")
        logger.logLevel = .error
        let store = PostgresStore(address: address, logger: logger)
        let meter = ProgressMeter(terminal: isatty(STDERR_FILENO) == 1)
        let started = ContinuousClock.now
        let counts: [StoreMigration.Count]
        do {
            counts = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await store.run() }
                defer { group.cancelAll() }
                return try await StoreMigration(source: folder, destination: store).run { meter.show($0) }
            }
        } catch let error as StoreMigrationError {
            meter.end()
            if case .countMismatch(let counts) = error { Self.print(counts) }
            throw CommandFailure(error.description)
        } catch {
            meter.end()
            throw CommandFailure("The copy to \(address) failed and was rolled back (nothing was changed): \(error)")
        }
        meter.end()
        Self.print(counts)
        let rows = counts.filter { $0.table != "channel_heads" }.reduce(0) { $0 + $1.source }
        let seconds = (ContinuousClock.now - started).inSeconds
        Output.line("Copied \(rows) rows to \(address) in \(String(format: "%.1f", seconds)) s; every table's count matches.")
        Output.line("Session tokens were not copied: members log in again (their apps do so by themselves).")
        Output.line(
            "Attachments' files stay in \(folder.appendingPathComponent("attachments").path): start every node with --data \(folder.path) (or a shared copy of that folder), e.g. commune serve --data \(folder.path) --database <the same URL>"
        )
        Output.line("Keep \(folder.appendingPathComponent("commune.sqlite").path) as a backup; do not start a server on it without --database again, or the two copies part ways.")
    }

    /// The counts, table by table: SQLite, PostgreSQL, and whether they match.
    static func print(_ counts: [StoreMigration.Count]) {
        let width = max(5, counts.map(\.table.count).max() ?? 0)
        Output.line("table".padding(toLength: width, withPad: " ", startingAt: 0) + "      SQLite  PostgreSQL")
        for count in counts {
            let name = count.table.padding(toLength: width, withPad: " ", startingAt: 0)
            let source = String(count.source)
            let destination = String(count.destination)
            Output.line(
                name + String(repeating: " ", count: max(1, 12 - source.count)) + source
                    + String(repeating: " ", count: max(1, 12 - destination.count)) + destination + (count.matches ? "  ok" : "  MISMATCH")
            )
        }
    }
}

extension Duration {
    var inSeconds: Double { Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18 }
}
