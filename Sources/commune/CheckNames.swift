import ArgumentParser
import CommuneCore
import Foundation
import Logging

/// `commune check-names`: the stored names an older version accepted that the current text rules refuse or find
/// look-alike (the server warns about each at start). Nothing is renamed.
struct CheckNames: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-names",
        abstract: "List stored names that break the current rules on names (works while the server is running).",
        discussion: """
            Names stored by an older version may hold characters the server now refuses (control, invisible, \
            direction-changing or blank-looking characters, stacked combining marks) or look like another name of \
            their kind. They stay as they are; rename them (commune member rename, commune channel rename, set_info).
            """
    )

    @OptionGroup var store: InviteCommand.StoreOptions

    func run() async throws {
        let problems = try await self.store.withStore { store in
            try await orExit { try await Community.open(store: store, logger: Logger(label: "commune.check-names")) }.storedNameProblems()
        }
        for problem in problems { Output.line(problem.description) }
        Output.line(problems.isEmpty ? "Every stored name follows the current rules." : "\(problems.count) stored name problem\(problems.count == 1 ? "" : "s").")
    }
}
