import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import CommuneSQLite
import Crypto
import Foundation
import GRDB
import Testing

/// The home from the clients' side: two communities and a home on three loopback ports, a member using the real
/// `commune` CLI (join, home set/add/list/move/remove, `--community`) and the Swift library as a second device. The
/// home's files never hold an address, a title or a username in any encoding; a tampered entry is reported, not
/// shown; another identity neither reads nor changes the list; removing an entry does not leave the community.
@Suite("Home (clients)")
struct HomeClientTests {
    /// Runs the `commune` executable built beside the test bundle with one identity file.
    struct CLI {
        let identity: URL

        typealias Outcome = CommandOutcome

        func run(_ arguments: [String], identity: URL? = nil) async throws -> Outcome {
            try await runCommune(arguments + ["--identity", (identity ?? self.identity).path])
        }

        /// Runs and expects exit status 0.
        @discardableResult
        func succeed(_ arguments: [String], identity: URL? = nil) async throws -> Outcome {
            let outcome = try await self.run(arguments, identity: identity)
            #expect(outcome.status == 0, "commune \(arguments.joined(separator: " ")): \(outcome.output) \(outcome.errors)")
            return outcome
        }
    }

    /// A community with a name of its own, made by its owner.
    static func community(named name: String) async throws -> TestServer {
        let server = try await TestServer.start()
        let owner = try await server.owner()
        try await owner.connection.community("set_info", ["name": .string(name)])
        await owner.connection.close()
        return server
    }

    static func inviteLink(_ server: TestServer) async throws -> String { "\(server.baseURL)/#invite=\(try await server.invite())" }

    /// Every byte of every file under `folder`.
    static func files(under folder: URL) throws -> [(path: String, bytes: Data)] {
        let paths = FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? []
        return try paths.compactMap { relative in
            let url = folder.appendingPathComponent(relative)
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), !isFolder.boolValue else { return nil }
            return (relative, try Data(contentsOf: url))
        }
    }

    /// `text` as UTF-8, UTF-16 in both byte orders, and the base64 of its UTF-8.
    static func encodings(of text: String) -> [(String, Data)] {
        var littleEndian = Data(), bigEndian = Data()
        for unit in text.utf16 {
            littleEndian += [UInt8(unit & 0xFF), UInt8(unit >> 8)]
            bigEndian += [UInt8(unit >> 8), UInt8(unit & 0xFF)]
        }
        return [
            ("UTF-8", Data(text.utf8)), ("UTF-16LE", littleEndian), ("UTF-16BE", bigEndian),
            ("base64", Data(Data(text.utf8).base64EncodedString().utf8)),
        ]
    }

    @Test("join two communities into a home; a second device sees and hears the list; the home's files hold no plaintext; tampering, other identities and removal")
    func homeOfTwoCommunities() async throws {
        let home = try await Self.community(named: "Hearth")
        let alpha = try await Self.community(named: "Alpha Garden")
        let beta = try await Self.community(named: "Beta Workshop")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("commune-home-\(UUIDString.random().value)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let cli = CLI(identity: folder.appendingPathComponent("identity.json"))

        // Join the home's community, make it the home, then join the two others: each is added to the home.
        try await cli.succeed(["join", try await Self.inviteLink(home), "--name", "Keeper"])
        let set = try await cli.succeed(["home", "set", home.baseURL])
        #expect(set.output.contains("Your home is now 'Hearth' at \(home.baseURL): 0 communities in it."))
        let joinedAlpha = try await cli.succeed(["join", try await Self.inviteLink(alpha), "--name", "Zephyrine"])
        #expect(joinedAlpha.output.contains("Joined 'Alpha Garden' at \(alpha.baseURL) as Zephyrine."))
        #expect(joinedAlpha.output.contains("Added it to your home at \(home.baseURL) (position 0)."))
        #expect(joinedAlpha.output.contains("General/"), "the channels are still printed")
        let joinedBeta = try await cli.succeed(["join", try await Self.inviteLink(beta), "--name", "Quillon"])
        #expect(joinedBeta.output.contains("Added it to your home at \(home.baseURL) (position 1)."))

        let listed = try await cli.succeed(["home", "list"])
        let lines = listed.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.hasPrefix("0  Alpha Garden  \(alpha.baseURL)  [") == true)
        #expect(lines.last?.hasPrefix("1  Beta Workshop  \(beta.baseURL)  [") == true)
        #expect(listed.errors.isEmpty)

        // A second device with the same identity: the library opens the same list.
        let file = try #require(try IdentityFile.load(from: cli.identity.path))
        let identity = try file.identity()
        let seal = HomeSeal(privateKey: identity.privateKey)
        let device = try await home.connect()
        _ = try await device.login(identity)
        let deviceEvents = EventReader(device)
        let list = try await device.getCommunities(seal: seal)
        #expect(list.unreadable.isEmpty)
        #expect(list.entries.map(\.address) == [alpha.baseURL, beta.baseURL])
        #expect(list.entries.map(\.title) == ["Alpha Garden", "Beta Workshop"])
        #expect(list.entries.map(\.position.description) == ["0", "1"])
        #expect(list.entries.map { $0.secret?.username } == ["Zephyrine", "Quillon"])
        #expect(list.entries.map { $0.secret?.communityKey } == [file.community(alpha.baseURL)?.communityKey, file.community(beta.baseURL)?.communityKey])
        let alphaID = try #require(list.entries.first?.id), betaID = try #require(list.entries.last?.id)

        // A move made with the CLI reaches the open device live, opened with the same key.
        let moved = try await cli.succeed(["home", "move", "beta workshop", "5.1"])
        #expect(moved.output.contains("Moved 'Beta Workshop' to position 5.1."))
        let update = try await deviceEvents.nextUpdate(HomeFunction.communityUpdated)
        guard case .updated(let entry)? = HomeEvent(update, seal: seal) else { throw TestFailure("not an opened update: \(update)") }
        #expect(entry.id == betaID && entry.position.description == "5.1" && entry.title == "Beta Workshop" && entry.folder == 5)
        #expect(try await device.getCommunities(seal: seal).entries.map(\.position.description) == ["0", "5.1"])
        let folders = try await cli.succeed(["home", "list"])
        let folderLines: [String] = folders.output.split(separator: "\n").map { line in String(line.split(separator: "  [").first ?? line) }
        let expectedLines: [String] = ["0  Alpha Garden  \(alpha.baseURL)", "5  Folder 5/", "  5.1  Beta Workshop  \(beta.baseURL)"]
        #expect(folderLines == expectedLines)

        // A folder label added on the device names folder 5 in the CLI's list.
        let label = HomeCommunity(id: .random(), position: HomePosition([5]), address: "", title: "Workbench")
        try await device.addCommunity(label, seal: seal)
        let labelled = try await cli.succeed(["home", "list"])
        #expect(labelled.output.contains("\n5  Workbench/\n  5.1  Beta Workshop"))

        // The home's files, while it runs (the WAL included): no address, title, username or community key.
        var secrets = [alpha.baseURL, beta.baseURL, "Alpha Garden", "Beta Workshop", "Workbench", "Zephyrine", "Quillon"]
        secrets += [alpha.baseURL, beta.baseURL].compactMap { file.community($0)?.communityKey }
        let stored = try Self.files(under: home.directory)
        #expect(stored.contains { $0.path == SQLiteStore.fileName })
        // The scan does see what the home stores in plain text: the member's own name there.
        #expect(stored.contains { $0.bytes.range(of: Data("Keeper".utf8)) != nil })
        for (path, bytes) in stored {
            for secret in secrets {
                for (encoding, needle) in Self.encodings(of: secret) {
                    #expect(bytes.range(of: needle) == nil, "\(path) holds '\(secret)' as \(encoding)")
                }
            }
        }

        // Another identity on the home: its own list is empty; the first member's entry is not its to change.
        let mallory = try await home.member("mallory")
        let malloryHome = try await mallory.connection.getCommunities(seal: HomeSeal(privateKey: mallory.identity.privateKey))
        #expect(malloryHome.entries.isEmpty && malloryHome.unreadable.isEmpty)
        await expectError(.forbidden) {
            try await mallory.connection.updateCommunity(betaID, position: HomePosition([9]), seal: HomeSeal(privateKey: mallory.identity.privateKey))
        }
        await expectError(.forbidden) { try await mallory.connection.removeCommunity(betaID) }
        #expect(try await device.getCommunities(seal: seal).entries.map(\.position.description) == ["0", "5", "5.1"])
        await device.close()

        // `--community` picks by name (any case) or URL; from the home alone, an identity that joined nothing here.
        let members = try await cli.succeed(["members", "--community", "alpha garden"])
        #expect(members.output.contains("Zephyrine"))
        let keyOnly = folder.appendingPathComponent("key-and-home.json")
        var bare = IdentityFile(identity: identity)
        bare.home = home.baseURL
        try bare.save(to: keyOnly.path)
        let fromHome = try await cli.succeed(["members", "--community", "Beta Workshop"], identity: keyOnly)
        #expect(fromHome.output.contains("Quillon"))
        let unknown = try await cli.run(["members", "--community", "Gamma"], identity: keyOnly)
        #expect(unknown.status != 0 && unknown.errors.contains("No community called 'Gamma' in this identity or in your home"))

        // Someone with the home's files but not the key changes Alpha's sealed title (the server stopped meanwhile).
        let port = home.ready.port
        await home.stop()
        let queue = try DatabaseQueue(path: home.directory.appendingPathComponent(SQLiteStore.fileName).path)
        try await queue.write { db in
            let title = try #require(try String.fetchOne(db, sql: "SELECT title FROM home_entries WHERE entry_id = ?", arguments: [alphaID.value]))
            var characters = Array(title)
            characters[20] = characters[20] == "A" ? "B" : "A"
            try db.execute(sql: "UPDATE home_entries SET title = ? WHERE entry_id = ?", arguments: [String(characters), alphaID.value])
        }
        try queue.close()
        let restarted = try await TestServer.start(directory: home.directory) { $0.port = port }
        let tampered = try await cli.succeed(["home", "list"])
        #expect(tampered.errors.contains("warning: 1 entry in your home could not be read — it was changed by someone without your key."))
        #expect(!tampered.output.contains("Alpha Garden") && !tampered.output.contains(alpha.baseURL))
        #expect(tampered.output.contains("0  (could not be read)  [\(alphaID)]"))
        #expect(tampered.output.contains("  5.1  Beta Workshop  \(beta.baseURL)"))
        let again = try await restarted.connect()
        _ = try await again.login(identity)
        let read = try await again.getCommunities(seal: seal)
        #expect(read.unreadable.map(\.id) == [alphaID.value])
        #expect(read.communities.map(\.title) == ["Beta Workshop"])
        await again.close()

        // Removing an entry (here the unreadable one by id, and Beta by title) does not leave the community.
        try await cli.succeed(["home", "remove", alphaID.value])
        let removed = try await cli.succeed(["home", "remove", "Beta Workshop"])
        #expect(removed.output.contains("you are still a member of that community"))
        let rest = try await cli.succeed(["home", "list"])
        #expect(rest.output == "5  Workbench/\n" && rest.errors.isEmpty)
        let stillMember = try await cli.succeed(["members", "--server", beta.baseURL])
        #expect(stillMember.output.contains("Quillon"))
        try await cli.succeed(["channels", "--community", "Alpha Garden"])

        for server in [restarted, alpha, beta] { await server.stopAndRemove() }
        try? FileManager.default.removeItem(at: folder)
    }

    @Test("home add by hand, folders by position, and what the CLI refuses (no home, a home not joined, taken or malformed positions, an ambiguous title)")
    func addByHand() async throws {
        let home = try await Self.community(named: "Hearth")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("commune-home-\(UUIDString.random().value)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let cli = CLI(identity: folder.appendingPathComponent("identity.json"))
        try await cli.succeed(["join", try await Self.inviteLink(home), "--name", "Keeper"])

        let noHome = try await cli.run(["home", "list"])
        #expect(noHome.status == 1 && noHome.errors.contains("This identity keeps no home: choose one of your communities with `commune home set URL`."))
        let notJoined = try await cli.run(["home", "set", "http://127.0.0.1:9"])
        #expect(notJoined.status == 1 && notJoined.errors.contains("This identity has not joined http://127.0.0.1:9"))
        try await cli.succeed(["home", "set", home.baseURL])
        let empty = try await cli.succeed(["home", "list"])
        #expect(empty.output == "Your home is empty: `commune home add URL`, or join a community.\n")

        let added = try await cli.succeed(["home", "add", "http://10.0.0.7:1984", "--title", "Book club", "--position", "2.1"])
        #expect(added.output.hasPrefix("Added 'Book club' (http://10.0.0.7:1984) to your home at position 2.1 (id "))
        let again = try await cli.run(["home", "add", "http://10.0.0.7:1984/"])
        #expect(again.status == 1 && again.errors.contains("http://10.0.0.7:1984 is in your home already"))
        let taken = try await cli.run(["home", "add", "http://10.0.0.8:1984", "--position", "2.1"])
        #expect(taken.status == 1 && taken.errors.contains("(invalid_argument)") && taken.errors.contains("2.1"))
        let malformed = try await cli.run(["home", "add", "http://10.0.0.8:1984", "--position", "01"])
        #expect(malformed.status != 0 && malformed.errors.contains("'01' is not a position"))
        // Without --position: after the last top-level number in use (folder 2), titled by its address.
        let next = try await cli.succeed(["home", "add", "http://10.0.0.8:1984"])
        #expect(next.output.contains("to your home at position 3 "))
        try await cli.succeed(["home", "add", "http://10.0.0.9:1984", "--title", "book CLUB"])
        let ambiguous = try await cli.run(["home", "move", "Book club", "7"])
        #expect(ambiguous.status == 1 && ambiguous.errors.contains("'Book club' is the title of 2 entries"))

        let listed = try await cli.succeed(["home", "list"])
        let lines: [String] = listed.output.split(separator: "\n").map { line in String(line.split(separator: "  [").first ?? line) }
        let expected: [String] = [
            "2  Folder 2/", "  2.1  Book club  http://10.0.0.7:1984", "3  http://10.0.0.8:1984  http://10.0.0.8:1984", "4  book CLUB  http://10.0.0.9:1984",
        ]
        #expect(lines == expected)

        // Folder 2 named, then renamed: a label at position 2 (the same on every client); position 3 holds a community.
        let named = try await cli.succeed(["home", "folder", "2", "Reading"])
        #expect(named.output == "Folder 2 is called 'Reading' (1 community in it).\n")
        let renamed = try await cli.succeed(["home", "folder", "2", "Books"])
        #expect(renamed.output == "Folder 2 is now called 'Books'.\n")
        let occupied = try await cli.run(["home", "folder", "3", "Work"])
        #expect(occupied.status == 1 && occupied.errors.contains("Position 3 holds 'http://10.0.0.8:1984', and a folder's name is kept there"))
        let badName = try await cli.run(["home", "folder", "5", "a\u{1B}b"])
        #expect(badName.status != 0 && badName.errors.contains("The folder's name must be 1 to 64 characters without control characters."))
        let folders = try await cli.succeed(["home", "list"])
        #expect(folders.output.split(separator: "\n").prefix(2).map(String.init).first == "2  Books/")
        #expect(folders.output.split(separator: "\n").count == expected.count)

        // Hostile titles: the CLI refuses control characters in --title; one sealed by another client of the member
        // is listed on its one line, its control characters shown as U+FFFD (a bidi override stays: it is text).
        let escape = try await cli.run(["home", "add", "http://10.0.0.10:1984", "--title", "a\u{1B}[2Jb"])
        #expect(escape.status != 0 && escape.errors.contains("--title must be 1 to 64 characters without control characters."))
        let file = try #require(try IdentityFile.load(from: cli.identity.path))
        let identity = try file.identity()
        let device = try await home.connect()
        _ = try await device.login(identity)
        let hostile = HomeCommunity(id: .random(), position: HomePosition([9]), address: "http://10.0.0.10:1984\r", title: "Evil\nline\u{202E}\u{1B}[2J")
        try await device.addCommunity(hostile, seal: HomeSeal(privateKey: identity.privateKey))
        await device.close()
        let shown = try await cli.succeed(["home", "list"])
        let last = try #require(shown.output.split(separator: "\n").last)
        #expect(last == "9  Evil\u{FFFD}line\u{202E}\u{FFFD}[2J  http://10.0.0.10:1984\u{FFFD}  [\(hostile.id)]")
        #expect(shown.output.split(separator: "\n").count == expected.count + 1)

        // Nothing of it reached the home's files in plain text.
        for (path, bytes) in try Self.files(under: home.directory) {
            for secret in ["10.0.0.7", "10.0.0.8", "10.0.0.9", "10.0.0.10", "Book club", "book CLUB", "Evil", "Reading", "Books"] {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(path) holds '\(secret)'")
            }
        }
        await home.stopAndRemove()
        try? FileManager.default.removeItem(at: folder)
    }

    @Test("a join while the home is down still joins (a warning says the home was not changed); home add later fills the entry from the identity file")
    func joinWithTheHomeDown() async throws {
        let home = try await Self.community(named: "Hearth")
        let garden = try await Self.community(named: "Garden")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("commune-home-\(UUIDString.random().value)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let cli = CLI(identity: folder.appendingPathComponent("identity.json"))
        try await cli.succeed(["join", try await Self.inviteLink(home), "--name", "Keeper"])
        try await cli.succeed(["home", "set", home.baseURL])
        let port = home.ready.port
        await home.stop()

        let joined = try await cli.succeed(["join", try await Self.inviteLink(garden), "--name", "Rowan"])
        #expect(joined.output.contains("Joined 'Garden' at \(garden.baseURL) as Rowan."))
        #expect(joined.errors.hasPrefix("warning: could not add it to your home at \(home.baseURL): "))
        #expect(try IdentityFile.load(from: cli.identity.path)?.community(garden.baseURL)?.username == "Rowan")

        let restarted = try await TestServer.start(directory: home.directory) { $0.port = port }
        let added = try await cli.succeed(["home", "add", garden.baseURL])
        #expect(added.output.contains("Added 'Garden' (\(garden.baseURL)) to your home at position 0"))
        let file = try #require(try IdentityFile.load(from: cli.identity.path))
        let identity = try file.identity()
        let device = try await restarted.connect()
        _ = try await device.login(identity)
        let list = try await device.getCommunities(seal: HomeSeal(privateKey: identity.privateKey))
        #expect(list.communities.map(\.secret) == [HomeCommunity.Secret(communityKey: file.community(garden.baseURL)?.communityKey, username: "Rowan")])
        await device.close()
        for server in [restarted, garden] { await server.stopAndRemove() }
        try? FileManager.default.removeItem(at: folder)
    }

    @Test("opening entries: a secret that is not a JSON object, a malformed id or position, a missing field are unreadable; where the next entry goes")
    func opening() throws {
        let seal = HomeSeal(privateKey: Curve25519.KeyAgreement.PrivateKey())
        func wire(_ id: String, position: String = "1", title: String? = "T", secret: String? = nil) -> JSONValue {
            var object: [String: JSONValue] = [
                "id": .string(id), "position": .string(position), "updated_at": "2026-12-02T03:05:00.000Z",
                "community_address": .string(seal.seal("http://h:1", field: .communityAddress, entryID: id)),
            ]
            if let title { object["community_title"] = .string(seal.seal(title, field: .communityTitle, entryID: id)) }
            if let secret { object["community_secret"] = .string(seal.seal(secret, field: .communitySecret, entryID: id)) }
            return .object(object)
        }
        let good = UUIDString.random().value
        let upper = UUIDString.random().value
        let values: [JSONValue] = [
            wire(good, position: "2.1", secret: #"{"community_key":"a2V5","username":"z","later":1}"#),
            wire(upper.uppercased(), position: "0"),
            wire(UUIDString.random().value, secret: "[1, 2]"),
            wire(UUIDString.random().value, secret: "not json"),
            wire(UUIDString.random().value, title: nil),
            wire("not-a-uuid"),
            wire(UUIDString.random().value, position: "01"),
        ]
        let list = HomeList(opening: values, with: seal)
        #expect(list.entries.map(\.id.value) == [upper, good])
        #expect(list.entries.last?.secret == HomeCommunity.Secret(communityKey: "a2V5", username: "z"))
        #expect(list.unreadable.map(\.reason) == [
            "community_secret is not a JSON object", "community_secret is not a JSON object", "community_title is missing",
            "its id is not a UUID", "its position is malformed",
        ])
        #expect(list.unreadableNotice == "5 entries in your home could not be read — they were changed by someone without your key.")
        // After the last top-level number of every entry, the unreadable ones' included.
        #expect(list.nextTopLevelPosition == HomePosition([3]))
        #expect(HomeList(entries: []).nextTopLevelPosition == HomePosition([0]))
        let full = HomeList(entries: [HomeCommunity(id: .random(), position: HomePosition([999_999]), address: "", title: "")])
        #expect(full.nextTopLevelPosition == nil)
        // An update that does not open is an event of its own, not an entry.
        let tampered = FunctionResult(codec: "community", address: .community, result: HomeFunction.communityUpdated, payload: ["community": values[2]])
        guard case .unreadable(let entry)? = HomeEvent(tampered, seal: seal) else { throw TestFailure("not reported as unreadable") }
        #expect(entry.reason == "community_secret is not a JSON object")
    }
}
