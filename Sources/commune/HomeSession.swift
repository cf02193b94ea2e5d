import CommuneClient
import CommuneProtocol
import Foundation

/// A logged-in connection to the member's home (the community their identity file names as `home`), with the key
/// that seals and opens its entries.
struct HomeSession {
    let connection: CommuneConnection
    let seal: HomeSeal
    /// The home's base URL.
    let url: String

    /// Logs in to `file`'s home. - Throws: ``CommandFailure`` when the identity keeps no home.
    static func open(_ file: IdentityFile) async throws -> HomeSession {
        guard let home = file.home else {
            throw CommandFailure("This identity keeps no home: choose one of your communities with `commune home set URL`.")
        }
        // Pinned when the home is one of the communities in the file (an identity imported from the web client may
        // name its home alone).
        let pinned = file.community(home)?.communityKey
        let identity = try file.identity()
        let (connection, _) = try await ClientOptions.login(to: home, communityKey: pinned, as: identity)
        return HomeSession(connection: connection, seal: HomeSeal(privateKey: identity.privateKey), url: home)
    }

    func list() async throws -> HomeList { try await self.connection.getCommunities(seal: self.seal) }

    /// Adds the community at `url`, unless the home has it already; returns the entry added (`nil`: it was there).
    func add(_ url: String, title: String, secret: HomeCommunity.Secret?, position: HomePosition?) async throws -> HomeCommunity? {
        let list = try await self.list()
        if list.community(at: url) != nil { return nil }
        guard let position = position ?? list.nextTopLevelPosition else {
            throw CommandFailure("Your home's last position is \(HomePosition.maxComponent); give one with --position.")
        }
        let entry = HomeCommunity(id: .random(), position: position, address: IdentityFile.normalized(url), title: title, secret: secret)
        return try await self.connection.addCommunity(entry, seal: self.seal)
    }
}

extension HomeCommunity.Secret {
    /// What another device needs to log in to a community joined with this identity.
    init(_ entry: IdentityFile.CommunityEntry) {
        self.init(communityKey: entry.communityKey, username: entry.username)
    }
}
