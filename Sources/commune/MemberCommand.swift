import ArgumentParser
import CommuneClient
import CommuneProtocol

/// `commune member …`: moderation from the command line, with the caller's own permissions.
struct MemberCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "member",
        abstract: "Rename, regroup, mute, remove and ban members; list and lift bans.",
        discussion: """
            A member is named by username or user id. The server checks your permissions and power level.
              commune member group alice moderator
              commune member ban troll --reason "spam" --vengeance
              commune member bans
            """,
        subcommands: [Rename.self, SetGroup.self, Mute.self, Remove.self, Ban.self, Unban.self, Bans.self]
    )

    /// Connects, resolves `who` (a username or user id) among the members, and runs `function` on them.
    static func act(_ client: ClientOptions, on who: String, _ function: String, _ extra: [String: JSONValue], done: (String) -> String) async throws {
        let (connection, _, _) = try await client.connect()
        try await closing(connection) {
            let members = try await orExit { try await connection.members() }
            let matches = members.filter { $0.userID.value == who.lowercased() || $0.username == who }
            guard matches.count == 1, let member = matches.first else {
                throw CommandFailure(matches.isEmpty ? "No member '\(who)' (see `commune members`)." : "Several members are called '\(who)': use the user id.")
            }
            var payload = extra
            payload["user_id"] = .string(member.userID.value)
            try await orExit { try await connection.community(function, .object(payload)) }
            Output.line(done(member.username))
        }
    }

    struct Rename: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a member's display name (needs rename_users).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Username or user id.") var member: String
        @Argument(help: "The new name.") var username: String

        func run() async throws {
            try await MemberCommand.act(self.client, on: self.member, "set_username", ["username": .string(self.username)]) { "Renamed \($0) to \(self.username)." }
        }
    }

    struct SetGroup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "group", abstract: "Move a member to a group (needs set_user_groups).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Username or user id.") var member: String
        @Argument(help: "The group.") var group: String

        func run() async throws {
            try await MemberCommand.act(self.client, on: self.member, "set_user_group", ["group": .string(self.group)]) { "Moved \($0) to \(self.group)." }
        }
    }

    struct Mute: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Server-mute a member in voice channels (needs suppress_users).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Username or user id.") var member: String
        @Flag(help: "Lift the mute instead.") var off = false

        func run() async throws {
            try await MemberCommand.act(self.client, on: self.member, "server_mute", ["suppress": .bool(!self.off)]) { "\(self.off ? "Unmuted" : "Muted") \($0)." }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a member: their key can no longer log in (needs remove_users).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Username or user id.") var member: String
        @Flag(help: "Also remove every message they sent and their uploads.") var vengeance = false

        func run() async throws {
            try await MemberCommand.act(self.client, on: self.member, "remove_member", ["vengeance": .bool(self.vengeance)]) { "Removed \($0)." }
        }
    }

    struct Ban: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Ban a member: removed, and their key cannot join again (needs ban_users).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Username or user id.") var member: String
        @Option(help: "Why (shown in the ban list).") var reason = ""
        @Flag(help: "Also remove every message they sent and their uploads.") var vengeance = false

        func run() async throws {
            try await MemberCommand.act(self.client, on: self.member, "ban", ["reason": .string(self.reason), "vengeance": .bool(self.vengeance)]) { "Banned \($0)." }
        }
    }

    struct Unban: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lift a ban (needs ban_users); they can join again with a new invite.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The banned user id (see `commune member bans`).") var userID: String

        func run() async throws {
            let (connection, _, _) = try await self.client.connect()
            try await closing(connection) {
                try await orExit { try await connection.community("unban", ["user_id": .string(self.userID)]) }
                Output.line("Unbanned \(self.userID).")
            }
        }
    }

    struct Bans: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List banned identities (needs ban_users).")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let (connection, _, _) = try await self.client.connect()
            try await closing(connection) {
                let list = try await orExit { try await connection.community("get_bans") }
                let bans = list.payload["bans"]?.arrayValue ?? []
                if bans.isEmpty { Output.line("No bans.") }
                for ban in bans {
                    let reason = ban["reason"]?.stringValue ?? ""
                    let byID = ban["banned_by"]?.stringValue.map { " (\($0))" } ?? ""
                    let by = "\(ban["banned_by_name"]?.stringValue ?? "?")\(byID)"
                    Output.line("\(ban["username"]?.stringValue ?? "?")  \(ban["user_id"]?.stringValue ?? "")  by \(by)\(reason.isEmpty ? "" : ": \(reason)")")
                }
            }
        }
    }
}
