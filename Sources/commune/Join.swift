import ArgumentParser
import CommuneClient
import CommuneProtocol
import Foundation

struct Join: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join a community with an invite link.",
        discussion: """
            Creates your identity (an X25519 key pair in a file only you can read) if you have none, registers
            with the invite, logs in with the challenge and remembers the community for the other commands.
            Keep the identity file safe: it is the only way to log in as you.
            When your identity keeps a home (`commune home set`), the community is added to it.
            """
    )

    @Argument(help: "The invite link, e.g. http://127.0.0.1:1984/#invite=…")
    var invite: String

    @Option(help: "Your display name in this community (1 to 32 characters).")
    var name: String

    @Option(help: "The identity file (default: $COMMUNE_IDENTITY or ~/.config/commune/identity.json).")
    var identity: String?

    func run() async throws {
        guard let link = InviteLink(self.invite) else {
            throw ValidationError("'\(self.invite)' is not an invite link (http://HOST:PORT/#invite=CODE).")
        }
        let path = self.identity ?? IdentityFile.defaultPath
        var file: IdentityFile
        if let existing = try IdentityFile.load(from: path) {
            file = existing
        } else {
            file = IdentityFile(identity: .generate())
            try file.save(to: path)
            Output.line("Created your identity in \(path) (keep it safe: it is how you log in).")
        }
        let identity = try file.identity()
        let connection = try await orExit {
            try await CommuneConnection.connect(to: link.webSocketURL, logger: ClientOptions.quietLogger)
        }
        try await closing(connection) {
            do {
                try await connection.register(identity, invite: link.code, username: self.name)
            } catch let error as CommuneError where error.code == .alreadyRegistered {
                Output.line("You are already a member of this community; logging in.")
            } catch let error as CommuneError {
                Output.error("error: \(error.message) (\(error.code))")
                throw ExitCode.failure
            }
            let welcome = try await orExit { try await connection.login(identity) }
            file.communities.removeAll { IdentityFile.normalized($0.url) == IdentityFile.normalized(link.baseURL) }
            file.communities.append(
                .init(url: link.baseURL, username: welcome.username, name: welcome.communityName, communityKey: welcome.communityKey)
            )
            try file.save(to: path)
            Output.line("Joined '\(welcome.communityName)' at \(link.baseURL) as \(welcome.username).")
            if file.home != nil, let entry = file.community(link.baseURL) {
                await Self.addToHome(entry, file: file)
            }
            Output.line("Channels:")
            Channels.printTree(welcome.interactables)
        }
    }

    /// Adds the community just joined to the member's home; the join stands whatever happens there.
    static func addToHome(_ entry: IdentityFile.CommunityEntry, file: IdentityFile) async {
        do {
            let session = try await HomeSession.open(file)
            let added = try await closing(session.connection) {
                try await session.add(entry.url, title: entry.name ?? entry.url, secret: .init(entry), position: nil)
            }
            if let added {
                Output.line("Added it to your home at \(session.url) (position \(added.position)).")
            } else {
                Output.line("It is in your home at \(session.url) already.")
            }
        } catch let error as CommuneError {
            Output.error("warning: could not add it to your home at \(file.home ?? ""): \(error.message) (\(error.code))")
        } catch {
            Output.error("warning: could not add it to your home at \(file.home ?? ""): \(error)")
        }
    }
}
