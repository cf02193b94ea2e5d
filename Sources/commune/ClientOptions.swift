import ArgumentParser
import CommuneClient
import CommuneProtocol
import Foundation
import Logging

/// Options shared by the commands that talk to a community as a member.
struct ClientOptions: ParsableArguments {
    @Option(help: "The identity file (default: $COMMUNE_IDENTITY or ~/.config/commune/identity.json).")
    var identity: String?

    @Option(help: "The community's URL (default: the community joined last).")
    var server: String?

    @Option(help: "The community by its name or URL: one you joined with this identity, or one in your home.")
    var community: String?

    var identityPath: String { self.identity ?? IdentityFile.defaultPath }

    /// Loads the identity and the chosen community, connects and logs in; failures end the command with a message.
    func connect() async throws -> (CommuneConnection, IdentificationResponse, IdentityFile.CommunityEntry) {
        do {
            return try await self.connectOrThrow()
        } catch let error as CommuneError {
            throw CommandFailure("\(error.message) (\(error.code))")
        } catch let error as CommuneClientError {
            throw CommandFailure("\(error.description)")
        } catch let error as CommandFailure {
            throw error
        } catch {
            throw CommandFailure("cannot reach the community: \(error)")
        }
    }

    /// Like ``connect()``, but lets the caller decide what to do with each failure. `resume` (an earlier
    /// connection's ``CommuneConnection/resumePoint``) asks for the updates missed since.
    func connectOrThrow(resume: ResumePoint? = nil) async throws -> (CommuneConnection, IdentificationResponse, IdentityFile.CommunityEntry) {
        guard let file = try IdentityFile.load(from: self.identityPath) else {
            throw CommandFailure("No identity at \(self.identityPath): join a community first with `commune join <invite> --name <you>`.")
        }
        let entry = try await self.chosenCommunity(in: file)
        let (connection, welcome) = try await Self.login(to: entry.url, communityKey: entry.communityKey, as: file.identity(), resume: resume)
        return (connection, welcome, entry)
    }

    /// The community `--community` or `--server` names, else the one joined last.
    private func chosenCommunity(in file: IdentityFile) async throws -> IdentityFile.CommunityEntry {
        if let name = self.community {
            guard self.server == nil else { throw CommandFailure("Give --community or --server, not both.") }
            return try await CommunityChoice.find(name, in: file)
        }
        guard let entry = file.community(self.server) else {
            throw CommandFailure(
                self.server.map { "This identity has not joined \($0); join it first with `commune join <invite>`." }
                    ?? "This identity has joined no community yet: `commune join <invite> --name <you>`."
            )
        }
        return entry
    }

    /// Connects to the community at `url` and logs in, refusing a server whose key is not `communityKey` (when known).
    static func login(
        to url: String, communityKey: String?, as identity: Identity, resume: ResumePoint? = nil
    ) async throws -> (CommuneConnection, IdentificationResponse) {
        let connection = try await CommuneConnection.connect(to: url, logger: Self.quietLogger)
        do {
            return (connection, try await connection.login(identity, communityKey: communityKey, resume: resume))
        } catch {
            await connection.close()
            throw error
        }
    }

    static var quietLogger: Logger {
        var logger = Logger(label: "commune.client")
        logger.logLevel = .critical
        return logger
    }
}

/// A channel given on the command line as `Category/Channel` or `Channel`.
struct ChannelArgument: ExpressibleByArgument {
    let address: ChannelAddress

    init?(argument: String) {
        guard let address = ChannelAddress(slashed: argument) else { return nil }
        self.address = address
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

/// Runs a request and turns a server error into a clean exit.
@discardableResult
func orExit<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as CommuneError {
        Output.error("error: \(error.message) (\(error.code))")
        throw ExitCode.failure
    } catch let error as CommuneClientError {
        Output.error("error: \(error.description)")
        throw ExitCode.failure
    }
}

/// A failure that ends a command: printed as `Error: …`, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
