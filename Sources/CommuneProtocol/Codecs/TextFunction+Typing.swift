/// The text codec's typing indicator: `typing` (a member is writing in the channel) and its result `member_typing`.
extension TextFunction {
    public static let typing = "typing"
    public static let memberTyping = "member_typing"
}
