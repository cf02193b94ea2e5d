import CommuneProtocol

/// A change to the member's home made on another of their devices (the server's `update` of the same result).
public enum HomeEvent: Sendable, Hashable {
    case added(HomeCommunity)
    case updated(HomeCommunity)
    case removed(UUIDString)
    /// An added or updated entry that does not open with this identity's key.
    case unreadable(HomeList.Unreadable)

    /// The home event a community-wide result carries, opened with `seal`; `nil` for any other result.
    public init?(_ result: FunctionResult, seal: HomeSeal) {
        switch result.result {
        case HomeFunction.communityAdded, HomeFunction.communityUpdated:
            let added = result.result == HomeFunction.communityAdded
            do {
                let entry = try HomeCommunity(opening: result.payload["community"] ?? .null, with: seal)
                self = added ? .added(entry) : .updated(entry)
            } catch {
                self = .unreadable(error)
            }
        case HomeFunction.communityRemoved:
            guard let id = result.payload["id"]?.stringValue.flatMap(UUIDString.init) else { return nil }
            self = .removed(id)
        default:
            return nil
        }
    }
}

/// The member's home on the community this connection is logged in to: their list of communities, every field
/// sealed here with their key (``HomeSeal``) before it is sent and opened here when it comes back. The server sees
/// only sealed strings and positions.
extension CommuneConnection {
    /// The home's entries that open with `seal`, and those that do not (changed by someone without the key).
    public func getCommunities(seal: HomeSeal) async throws -> HomeList {
        let result = try await self.community(HomeFunction.getCommunities)
        guard let values = result.payload["communities"]?.arrayValue else {
            throw CommuneClientError.unexpectedReply("get_community without communities")
        }
        return HomeList(opening: values, with: seal)
    }

    /// Adds `entry` (its id new in this home, its position free) and returns it as stored.
    @discardableResult
    public func addCommunity(_ entry: HomeCommunity, seal: HomeSeal) async throws -> HomeCommunity {
        let result = try await self.community(HomeFunction.addCommunity, .object(entry.sealedPayload(with: seal)))
        return try self.opened(result, seal: seal)
    }

    /// Changes the given fields of entry `id` (at least one); `secret: .some(nil)` clears the secret.
    @discardableResult
    public func updateCommunity(
        _ id: UUIDString, address: String? = nil, title: String? = nil, secret: HomeCommunity.Secret?? = .none,
        position: HomePosition? = nil, seal: HomeSeal
    ) async throws -> HomeCommunity {
        var payload = HomeCommunity.sealed(address: address, title: title, secret: secret, of: id, with: seal)
        payload["id"] = .string(id.value)
        if let position { payload["position"] = .string(position.description) }
        let result = try await self.community(HomeFunction.updateCommunity, .object(payload))
        return try self.opened(result, seal: seal)
    }

    /// Removes entry `id` from the home. The member stays a member of that community.
    public func removeCommunity(_ id: UUIDString) async throws {
        try await self.community(HomeFunction.removeCommunity, ["id": .string(id.value)])
    }

    /// The home's changes made on the member's other devices, as they arrive. Like ``updates``, it reads
    /// ``events``: use one or the other.
    public func homeEvents(seal: HomeSeal) -> AsyncCompactMapSequence<AsyncCompactMapSequence<AsyncStream<Envelope>, FunctionResult>, HomeEvent> {
        self.updates.compactMap { HomeEvent($0, seal: seal) }
    }

    private func opened(_ result: FunctionResult, seal: HomeSeal) throws -> HomeCommunity {
        // What we sealed a moment ago comes back as we sent it; if it does not open, the server changed it.
        try HomeCommunity(opening: result.payload["community"] ?? .null, with: seal)
    }
}
