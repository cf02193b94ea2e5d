import ArgumentParser
import CommuneClient

struct Members: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the community's members and who is online.",
        discussion: "Every member, in username order, read a page at a time; with --limit, one page of the list, and how many members there are and how many are online on standard error; with --search PREFIX, the members whose name starts with PREFIX (at most --limit, 10 if omitted)."
    )

    @OptionGroup var client: ClientOptions

    @Option(help: "With --limit: where the page starts (0 is the first member).")
    var offset: Int = 0

    @Option(help: "List one page of at most this many members (1 to 200; with --search, 1 to 50, 10 if omitted).")
    var limit: Int?

    @Option(help: "List the members whose name starts with PREFIX (case and accents aside), searched by the server.")
    var search: String?

    func validate() throws {
        guard self.offset >= 0 else { throw ValidationError("--offset must be 0 or more.") }
        if self.search != nil {
            guard self.offset == 0 else { throw ValidationError("--search cannot be given with --offset.") }
            if let limit = self.limit, !(1...50).contains(limit) { throw ValidationError("--limit must be between 1 and 50 with --search.") }
        } else if let limit = self.limit, !(1...200).contains(limit) {
            throw ValidationError("--limit must be between 1 and 200.")
        }
    }

    func run() async throws {
        let (connection, _, _) = try await self.client.connect()
        try await closing(connection) {
            let members: [MemberInfo]
            if let prefix = self.search {
                members = try await orExit { try await connection.searchMembers(prefix, limit: self.limit ?? 10) }
                if members.isEmpty { Output.error("no member's name starts with \(prefix)") }
            } else if let limit = self.limit {
                let page = try await orExit { try await connection.memberPage(offset: self.offset, limit: limit) }
                members = page.members
                let shown = members.isEmpty ? "none" : "\(self.offset + 1)–\(self.offset + members.count)"
                Output.error("members \(shown) of \(page.total), \(page.online) online")
            } else {
                members = try await orExit { try await connection.members() }
            }
            for member in members {
                Output.line("\(member.online ? "●" : "○") \(member.username)  [\(member.group)]  \(member.userID)")
            }
        }
    }
}
