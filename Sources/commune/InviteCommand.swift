import ArgumentParser
import CommuneCore
import CommunePostgres
import CommuneSQLite
import CommuneProtocol
import CommuneServer
import Foundation
import Logging

struct InviteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invite",
        abstract: "Create, list and revoke invites (works while the server is running).",
        subcommands: [Create.self, List.self, Revoke.self],
        defaultSubcommand: Create.self
    )

    struct StoreOptions: ParsableArguments {
        @Option(help: "The community's data folder.")
        var data = ServerConfiguration.defaultDataPath

        @Option(
            help: ArgumentHelp(
                "The community's PostgreSQL database, for a server started with --database (default: $COMMUNE_DATABASE_URL).",
                valueName: "postgres-url"
            )
        )
        var database: String?

        /// The database's URL when one is named, else `nil` for the data folder's SQLite file.
        var databaseURL: String? {
            guard let url = self.database ?? ProcessInfo.processInfo.environment["COMMUNE_DATABASE_URL"], !url.isEmpty else { return nil }
            return url
        }

        /// Where the community is kept, for messages.
        var place: String { self.databaseURL.map { (try? PostgresAddress(url: $0).description) ?? "the database" } ?? self.data }

        /// Runs `body` on the community's store: the PostgreSQL database when one is named (its pool running for as
        /// long as `body` does), else the data folder's SQLite file.
        func withStore<Result: Sendable>(_ body: (any CommunityStore) async throws -> Result) async throws -> Result {
            if let url = self.databaseURL {
                let address: PostgresAddress
                do {
                    address = try PostgresAddress(url: url)
                } catch {
                    throw CommandFailure("--database: \(error)")
                }
                var logger = Logger(label: "commune.postgres")
                logger.logLevel = .error
                return try await PostgresStore.withStore(address, logger: logger) { try await body($0) }
            }
            let directory = URL(fileURLWithPath: self.data).standardizedFileURL
            guard SQLiteStore.exists(in: directory) else {
                throw CommandFailure("No community in \(directory.path): start one with `commune serve --data \(self.data)`.")
            }
            return try await body(try SQLiteStore(directory: directory))
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an invite and print its link (last line).",
            discussion: "The link carries the community's address and a secret code: share it only with who should join."
        )

        @OptionGroup var store: StoreOptions

        @Option(help: "How many people can join with it.")
        var uses: Int64 = 1

        @Option(help: "How long it stays valid: 30m, 12h, 7d, 2w, or 'never'.")
        var expires = "7d"

        @Option(help: "The group the new member lands in (an existing group).")
        var group = DefaultGroup.member

        func validate() throws {
            guard self.uses >= 1, self.uses <= 1_000_000 else { throw ValidationError("--uses must be between 1 and 1000000.") }
            _ = try DurationParser.milliseconds(self.expires)
            guard !self.group.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--group must not be empty.") }
        }

        func run() async throws {
            let lifetime = try DurationParser.milliseconds(self.expires)
            let (invite, link) = try await self.store.withStore { store in
                try await orExit {
                    let invite = try await InviteIssuer.create(in: store, group: self.group, uses: self.uses, lifetimeMilliseconds: lifetime)
                    return (invite, try await InviteIssuer.link(for: invite, in: store))
                }
            }
            let expiry = invite.expiresAt.map { "expires \(Self.format($0))" } ?? "never expires"
            Output.line("Invite for group '\(invite.group)': \(invite.usesLeft) use\(invite.usesLeft == 1 ? "" : "s"), \(expiry).")
            Output.line(link.description)
        }

        static func format(_ milliseconds: Int64) -> String {
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
            formatter.timeZone = TimeZone(identifier: "UTC")
            return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List invites with their state.")

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let now = UnixTime.nowMilliseconds()
            let invites = try await self.store.withStore { store in try await store.invites() }
            if invites.isEmpty {
                Output.line("No invites.")
                return
            }
            Output.line("CODE      GROUP       USES LEFT  EXPIRES               STATE")
            for invite in invites {
                let expiry = invite.expiresAt.map(Create.format) ?? "never"
                let state = invite.refusal(now: now) == nil ? "usable" : (invite.revoked ? "revoked" : invite.usesLeft <= 0 ? "used up" : "expired")
                Output.line(
                    "\(invite.code.prefix(6))…  \(invite.group.padding(toLength: 10, withPad: " ", startingAt: 0))  "
                        + "\(String(invite.usesLeft).padding(toLength: 9, withPad: " ", startingAt: 0))  "
                        + "\(expiry.padding(toLength: 20, withPad: " ", startingAt: 0))  \(state)"
                )
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an invite so that nobody else can join with it.")

        @OptionGroup var store: StoreOptions

        @Argument(help: "The invite's code or link.") var invite: String

        func run() async throws {
            let code = InviteLink(self.invite)?.code ?? self.invite
            guard try await self.store.withStore({ store in try await store.revokeInvite(code) }) else {
                throw CommandFailure("No invite with that code in \(self.store.place).")
            }
            Output.line("Revoked the invite \(code.prefix(6))….")
        }
    }
}
