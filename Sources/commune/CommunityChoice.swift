import CommuneClient
import CommuneProtocol
import Foundation

/// `--community NAME`: a community picked by its name or URL, among those joined with this identity, else among
/// those in the member's home (joined on another device: the home's entry carries the pinned key and username).
enum CommunityChoice {
    static func find(_ name: String, in file: IdentityFile) async throws -> IdentityFile.CommunityEntry {
        let local = file.communities.map { (url: $0.url, title: $0.name ?? "", entry: $0) }
        if let entry = try self.pick(name, among: local) { return entry }
        guard file.home != nil else {
            throw CommandFailure("No community called '\(name)' in this identity; `commune join <invite>` first.")
        }
        let session = try await HomeSession.open(file)
        let list = try await closing(session.connection) { try await session.list() }
        let remote = list.communities.map { community in
            (url: community.address, title: community.title,
             entry: IdentityFile.CommunityEntry(
                url: community.address, username: community.secret?.username ?? "", name: community.title,
                communityKey: community.secret?.communityKey
             ))
        }
        guard let entry = try self.pick(name, among: remote) else {
            throw CommandFailure("No community called '\(name)' in this identity or in your home (`commune home list`).")
        }
        return entry
    }

    /// The one candidate whose URL is `name`, else whose title is `name` (ignoring case); `nil` for none.
    private static func pick(
        _ name: String, among candidates: [(url: String, title: String, entry: IdentityFile.CommunityEntry)]
    ) throws -> IdentityFile.CommunityEntry? {
        let url = IdentityFile.normalized(name)
        if let match = candidates.last(where: { IdentityFile.normalized($0.url) == url }) { return match.entry }
        let titled = candidates.filter { $0.title.caseInsensitiveCompare(name) == .orderedSame }
        guard titled.count <= 1 else {
            throw CommandFailure("'\(name)' names \(titled.count) communities (\(titled.map(\.url).joined(separator: ", "))): give its URL.")
        }
        return titled.first?.entry
    }
}
