/// Who may read a channel's messages.
extension PermissionChecker {
    /// Whether `member` may read the messages of `channel`. Every member reads every channel until channels can be
    /// private (as ``Community/recipients(of:)`` sends every channel's updates to everyone); search asks this of
    /// each channel it looks in, so that making a channel private is a change here, not in search.
    public func canRead(_ member: Member, channel: Interactable) -> Bool {
        true
    }
}
