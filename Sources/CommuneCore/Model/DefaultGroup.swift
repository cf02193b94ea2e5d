/// Names of the groups every community has.
public enum DefaultGroup {
    /// The community's owner: above every permission check.
    public static let owner = "owner"
    /// Where invited members land unless the invite names another group.
    public static let member = "member"
}
