import CommuneProtocol

/// Pinned messages per channel. Each change is one critical section (one transaction), so the limit holds.
public protocol PinStore: Sendable {
    /// Pins a message unless it is pinned already; refuses it (changing nothing) when the channel has `limit` pins.
    func pin(_ pin: Pin, limit: Int) async throws -> PinChange
    /// Unpins a message; `false` when it was not pinned.
    func unpin(channelID: Int64, messageID: Int64) async throws -> Bool
    /// A channel's pins, the most recently pinned first (of two pinned in the same millisecond, the higher message id).
    func pins(channelID: Int64) async throws -> [Pin]
}

/// A pinned message: who pinned it, and when.
public struct Pin: Sendable, Hashable {
    public var channelID: Int64
    public var messageID: Int64
    public var pinnedBy: UUIDString
    /// Unix milliseconds.
    public var time: Int64

    public init(channelID: Int64, messageID: Int64, pinnedBy: UUIDString, time: Int64) {
        self.channelID = channelID
        self.messageID = messageID
        self.pinnedBy = pinnedBy
        self.time = time
    }
}

/// What ``PinStore/pin(_:limit:)`` did.
public enum PinChange: Sendable, Hashable {
    case pinned
    /// It was pinned already (the earlier pin stays as it was).
    case alreadyPinned(Pin)
    /// Refused: the channel has as many pins as it may.
    case full
}
