/// Names of the home's community-wide functions and results (the member's list of communities), in one place for
/// the server's `HomeFunctions` and the clients.
public enum HomeFunction {
    public static let addCommunity = "add_community"
    public static let communityAdded = "community_added"
    public static let getCommunities = "get_communities"
    public static let getCommunity = "get_community"
    public static let updateCommunity = "update_community"
    public static let communityUpdated = "community_updated"
    public static let removeCommunity = "remove_community"
    public static let communityRemoved = "community_removed"
}
