import CommuneProtocol

/// The messages of text channels: appended with dense per-channel ids, paged newest first, edited and masked in
/// place (never deleted, so ids stay dense).
public protocol MessageStore: Sendable {
    /// Appends a message, assigning the channel's next `messageID`. Returns only once the message is committed.
    /// When the sender already stored a message with the same `senderNumber`, returns that one (`isNew` false).
    /// Once the message has its place in the store's queue (a message appended after that is committed after this
    /// one), the store calls ``PipelinedWrite/queued()`` so that a pipelining connection may start its next request.
    func appendMessage(_ message: NewMessage) async throws -> AppendedMessage
    /// Messages of a channel, newest first: ids below `before` (if given), skipping the `skip` newest of those.
    func messages(channelID: Int64, before: Int64?, skip: Int, limit: Int) async throws -> [StoredMessage]
    /// The messages of a channel with these ids (those that exist), in no particular order.
    func messages(channelID: Int64, ids: [Int64]) async throws -> [StoredMessage]
    /// One message, if it exists.
    func message(channelID: Int64, messageID: Int64) async throws -> StoredMessage?
    /// Replaces a message's text and sender in one transaction. An edit (a sender) marks it edited and replaces the
    /// members it mentions and whether it mentions everyone; a removal (a `nil` sender) drops its attachments and
    /// mentions (`mentions` and `everyone` are then ignored). The slot and its id stay.
    func updateMessage(
        channelID: Int64, messageID: Int64, text: String, senderID: UUIDString?, mentions: [UUIDString], everyone: Bool
    ) async throws
}

/// A message store that can write a message's records of the cluster's stream (``ClusterStream``) in the message's
/// own transaction: one commit makes the message durable and puts its `message_live` in the stream, positioned in
/// commit order with every other append (PostgreSQL's, which shares the database with the stream).
public protocol StreamingMessageStore: MessageStore {
    /// As ``MessageStore/appendMessage(_:)``; when the message is new, `records` makes its records from it as stored
    /// (its id given) and they are appended to the stream in the same transaction (their positions assigned then).
    /// A resend that finds the earlier message appends nothing. `records` may run more than once (a retried
    /// transaction) and must not block.
    func appendMessage(
        _ message: NewMessage, records: @escaping @Sendable (StoredMessage) -> [ClusterRecord]
    ) async throws -> AppendedMessage
}
