import ArgumentParser
import CommuneClient
import CommuneProtocol
import Foundation

struct HomeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "home",
        abstract: "Your home: the list of your communities, kept by one of them for all your devices.",
        discussion: """
            Everything about a community in the list (address, title, your name and its key) is encrypted with a \
            key derived from your identity before it leaves this machine: the home's server keeps only sealed \
            values and the positions. `commune join` adds each community you join to your home.

            Positions are "x", "x.y" or "x.y.z": entries sharing x with two or more numbers are in folder x.
            """,
        subcommands: [SetHome.self, AddEntry.self, ListEntries.self, MoveEntry.self, NameFolder.self, RemoveEntry.self]
    )

    struct Options: ParsableArguments {
        @Option(help: "The identity file (default: $COMMUNE_IDENTITY or ~/.config/commune/identity.json).")
        var identity: String?

        var path: String { self.identity ?? IdentityFile.defaultPath }

        func file() throws -> IdentityFile {
            guard let file = try IdentityFile.load(from: self.path) else {
                throw CommandFailure("No identity at \(self.path): join a community first with `commune join <invite> --name <you>`.")
            }
            return file
        }

        /// Runs `body` on a session with the home, closed afterwards; server errors end the command cleanly.
        func withHome<T>(_ body: (HomeSession, IdentityFile) async throws -> T) async throws -> T {
            let file = try self.file()
            let session = try await orExit { try await HomeSession.open(file) }
            return try await closing(session.connection) { try await orExit { try await body(session, file) } }
        }
    }

    struct SetHome: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Choose which of your communities keeps your home."
        )

        @Argument(help: "The community's URL (one you joined).") var url: String
        @OptionGroup var options: Options

        func run() async throws {
            var file = try self.options.file()
            guard let entry = file.community(self.url) else {
                throw CommandFailure("This identity has not joined \(self.url): your home must be one of your communities (`commune join <invite>`).")
            }
            file.home = IdentityFile.normalized(entry.url)
            // Check that it keeps homes (and read what it holds) before remembering it.
            let session = try await orExit { try await HomeSession.open(file) }
            let list = try await closing(session.connection) { try await orExit { try await session.list() } }
            try file.save(to: self.options.path)
            Output.line("Your home is now '\(entry.name ?? entry.url)' at \(file.home ?? entry.url): \(Self.count(list.communities.count)) in it.")
            let missing = file.communities.filter { list.community(at: $0.url) == nil }
            for community in missing {
                Output.line("Not in it yet: \(community.url) — add it with `commune home add \(community.url)`.")
            }
        }

        static func count(_ number: Int) -> String { number == 1 ? "1 community" : "\(number) communities" }
    }

    struct AddEntry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Add a community to your home."
        )

        @Argument(help: "The community's URL (http://host:port).") var url: String
        @Option(help: "The name to show (default: the community's name when you joined it, else its URL).") var title: String?
        @Option(help: "Where it goes, e.g. 3 or 2.1 (folder 2) (default: after the last top-level entry).") var position: String?
        @OptionGroup var options: Options

        func validate() throws {
            guard self.url.hasPrefix("http://") || self.url.hasPrefix("https://") else {
                throw ValidationError("'\(self.url)' is not a community's URL (http://host:port).")
            }
            if let position, HomePosition(position) == nil {
                throw ValidationError("'\(position)' is not a position: 1 to 3 numbers 0 to 999999 joined by dots (3, 2.1).")
            }
            if let title { _ = try Self.checkedTitle(title, option: "--title") }
        }

        /// As long as a community's name may be.
        static let maxTitleLength = 64

        /// `title` trimmed, or a usage error when it is empty, too long or holds control characters.
        static func checkedTitle(_ title: String, option: String) throws -> String {
            let trimmed = title.trimmingCharacters(in: .whitespacesAndNewlines)
            guard (1...Self.maxTitleLength).contains(trimmed.unicodeScalars.count), HomeListing.shown(trimmed) == trimmed else {
                throw ValidationError("\(option) must be 1 to \(Self.maxTitleLength) characters without control characters.")
            }
            return trimmed
        }

        func run() async throws {
            try await self.options.withHome { session, file in
                let joined = file.community(self.url)
                let title = self.title?.trimmingCharacters(in: .whitespacesAndNewlines) ?? joined?.name ?? IdentityFile.normalized(self.url)
                let position = self.position.flatMap(HomePosition.init)
                guard let added = try await session.add(self.url, title: title, secret: joined.map(HomeCommunity.Secret.init), position: position) else {
                    throw CommandFailure("\(IdentityFile.normalized(self.url)) is in your home already (`commune home list`).")
                }
                Output.line("Added '\(HomeListing.shown(added.title))' (\(HomeListing.shown(added.address))) to your home at position \(added.position) (id \(added.id)).")
            }
        }
    }

    struct ListEntries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List the communities in your home, folders indented.",
            discussion: "An entry that does not open with your key is listed as '(could not be read)' and reported on standard error."
        )

        @OptionGroup var options: Options

        func run() async throws {
            let list = try await self.options.withHome { session, _ in try await session.list() }
            for line in HomeListing.lines(list) { Output.line(line) }
            if list.entries.isEmpty, list.unreadable.isEmpty { Output.line("Your home is empty: `commune home add URL`, or join a community.") }
            if let notice = list.unreadableNotice { Output.error("warning: \(notice)") }
        }
    }

    struct MoveEntry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "move", abstract: "Move an entry of your home to another position (folders: 2.1, 2.2, …)."
        )

        @Argument(help: "The entry's id or title.") var entry: String
        @Argument(help: "The new position, e.g. 1, 2.1 or 2.1.3.") var position: String
        @OptionGroup var options: Options

        func validate() throws {
            guard HomePosition(self.position) != nil else {
                throw ValidationError("'\(self.position)' is not a position: 1 to 3 numbers 0 to 999999 joined by dots (3, 2.1).")
            }
        }

        func run() async throws {
            try await self.options.withHome { session, _ in
                let id = try HomeListing.find(self.entry, in: try await session.list())
                let moved = try await session.connection.updateCommunity(id, position: HomePosition(self.position), seal: session.seal)
                Output.line("Moved '\(HomeListing.shown(moved.title))' to position \(moved.position).")
            }
        }
    }

    struct NameFolder: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "folder",
            abstract: "Name folder N: the entries at N.1, N.2, … (a label kept, sealed, at position N).",
            discussion: "Naming it again renames it. Every client of yours shows the same name."
        )

        @Argument(help: "The folder's number (the x of x.y).") var number: Int
        @Argument(help: "Its name.") var name: String
        @OptionGroup var options: Options

        func validate() throws {
            guard (0...HomePosition.maxComponent).contains(self.number) else {
                throw ValidationError("A folder's number is 0 to \(HomePosition.maxComponent), not \(self.number).")
            }
            _ = try AddEntry.checkedTitle(self.name, option: "The folder's name")
        }

        func run() async throws {
            let name = try AddEntry.checkedTitle(self.name, option: "The folder's name")
            let position = HomePosition([self.number])
            try await self.options.withHome { session, _ in
                let list = try await session.list()
                if let label = list.entries.first(where: { $0.isFolderLabel && $0.position == position }) {
                    try await session.connection.updateCommunity(label.id, title: name, seal: session.seal)
                    Output.line("Folder \(self.number) is now called '\(HomeListing.shown(name))'.")
                    return
                }
                if let holder = list.entries.first(where: { $0.position == position }) {
                    throw CommandFailure(
                        "Position \(position) holds '\(HomeListing.shown(holder.title))', and a folder's name is kept there: move it first (`commune home move`)."
                    )
                }
                let label = HomeCommunity(id: .random(), position: position, address: "", title: name)
                _ = try await session.connection.addCommunity(label, seal: session.seal)
                let inside = list.communities.filter { $0.position.components.count >= 2 && $0.position.components[0] == self.number }.count
                Output.line("Folder \(self.number) is called '\(HomeListing.shown(name))' (\(inside == 1 ? "1 community" : "\(inside) communities") in it).")
            }
        }
    }

    struct RemoveEntry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: "Remove an entry from your home.",
            discussion: "You stay a member of the community: this only takes it off your list."
        )

        @Argument(help: "The entry's id or title.") var entry: String
        @OptionGroup var options: Options

        func run() async throws {
            try await self.options.withHome { session, _ in
                let id = try HomeListing.find(self.entry, in: try await session.list())
                try await session.connection.removeCommunity(id)
                Output.line("Removed \(id) from your home (you are still a member of that community).")
            }
        }
    }
}
