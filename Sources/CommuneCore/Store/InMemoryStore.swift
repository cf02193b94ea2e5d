import CommuneProtocol
import Synchronization

/// A ``CommunityStore`` in memory: the same rules as the SQLite store, nothing durable.
///
/// Domain tests run on it with no file and no socket (as Hummingbird's tests run on its `MemoryPersistDriver`), and
/// the store contract tests hold it and `SQLiteStore` to the same behaviour. Every method is one critical section,
/// so each either completes its whole effect or none of it.
public final class InMemoryStore: CommunityStore {
    struct State {
        var settings: [String: String] = [:]
        var nodes: [Int64: Interactable] = [:]
        var nextNodeID: Int64 = 1
        var members: [UUIDString: Member] = [:]
        var bans: [UUIDString: Ban] = [:]
        var groups: [String: Group] = Dictionary(uniqueKeysWithValues: Group.defaults.map { ($0.name, $0) })
        var invites: [String: Invite] = [:]
        var attachments: [String: (info: AttachmentInfo, uploader: UUIDString)] = [:]
        var audit: [AuditEntry] = []
        /// Per channel, messages by id - 1 (ids are dense from 1).
        var messages: [Int64: [StoredMessage]] = [:]
        /// (sender, number) → (channel, message id) of the message stored under that number.
        var numbers: [SenderNumber: (channel: Int64, id: Int64)] = [:]
        /// Per (channel, message), its reactions in the order they were added.
        var reactions: [MessageSlot: [Reaction]] = [:]
        /// Per channel, its pins in the order they were pinned.
        var pins: [Int64: [Pin]] = [:]
        /// Read marks: member → channel → last message id read.
        var readMarks: [UUIDString: [Int64: Int64]] = [:]
        /// Homes: member → entry id → entry.
        var homes: [UUIDString: [UUIDString: HomeEntry]] = [:]
    }

    struct MessageSlot: Hashable {
        var channel: Int64
        var message: Int64
    }

    struct SenderNumber: Hashable {
        var sender: UUIDString
        var number: Int64
    }

    /// Internal, not private, so that the store's extensions in other files (InMemoryStore+Home.swift) reach it.
    let state = Mutex(State())
    /// Where each append is reported as a commit of one message, as the other stores report their group commits.
    private let metrics: StoreMetrics

    public init(metrics: StoreMetrics = .disabled) {
        self.metrics = metrics
    }

    /// Memory always answers.
    public func ping() async throws {}

    // MARK: Settings

    public func settings() async throws -> [String: String] {
        self.state.withLock { $0.settings }
    }

    public func setSettingIfAbsent(_ key: String, _ value: String) async throws -> String {
        self.state.withLock { state in
            if let existing = state.settings[key] { return existing }
            state.settings[key] = value
            return value
        }
    }

    public func setSetting(_ key: String, _ value: String) async throws {
        self.state.withLock { $0.settings[key] = value }
    }

    // MARK: Structure

    public func interactables() async throws -> [Interactable] {
        self.state.withLock { Array($0.nodes.values) }.sorted { $0.id < $1.id }
    }

    public func createInteractables(_ nodes: [NewInteractable]) async throws -> [Interactable] {
        try self.state.withLock { state in
            var created: [Interactable] = []
            var names = Set(state.nodes.values.map { SiblingName(parentID: $0.parentID, name: $0.name) })
            for node in nodes {
                guard names.insert(SiblingName(parentID: node.parentID, name: node.name)).inserted else {
                    throw InMemoryStoreError.constraint("A sibling is already named '\(node.name)'.")
                }
                if let parent = node.parentID, state.nodes[parent] == nil {
                    throw InMemoryStoreError.constraint("No parent interactable \(parent).")
                }
                created.append(
                    Interactable(
                        id: state.nextNodeID + Int64(created.count), parentID: node.parentID, name: node.name, codec: node.codec,
                        position: node.position, properties: node.properties
                    )
                )
            }
            for node in created { state.nodes[node.id] = node }
            state.nextNodeID += Int64(created.count)
            return created
        }
    }

    private struct SiblingName: Hashable {
        var parentID: Int64?
        var name: String
    }

    public func setProperties(_ properties: [String: String], of interactable: Int64) async throws {
        self.state.withLock { $0.nodes[interactable]?.properties = properties }
    }

    public func updateInteractables(_ nodes: [Interactable]) async throws {
        try self.state.withLock { state in
            var updated = state.nodes
            for node in nodes where updated[node.id] != nil {
                updated[node.id]?.name = node.name
                updated[node.id]?.parentID = node.parentID
                updated[node.id]?.position = node.position
            }
            let names = updated.values.map { SiblingName(parentID: $0.parentID, name: $0.name) }
            guard Set(names).count == names.count else { throw InMemoryStoreError.constraint("Two siblings would share a name.") }
            state.nodes = updated
        }
    }

    /// Deletes the nodes, their descendants (as the SQLite store's foreign key cascades) and everything kept per
    /// channel for each: messages, reactions, pins and members' read marks.
    public func deleteInteractables(_ ids: [Int64]) async throws {
        self.state.withLock { state in
            var doomed = Set(ids)
            var parents = Set(ids)
            while !parents.isEmpty {
                parents = Set(state.nodes.values.filter { node in node.parentID.map(parents.contains) ?? false }.map(\.id)).subtracting(doomed)
                doomed.formUnion(parents)
            }
            for id in doomed {
                state.nodes[id] = nil
                state.messages[id] = nil
                state.pins[id] = nil
            }
            state.numbers = state.numbers.filter { !doomed.contains($0.value.channel) }
            state.reactions = state.reactions.filter { !doomed.contains($0.key.channel) }
            for member in state.readMarks.keys {
                state.readMarks[member] = state.readMarks[member]?.filter { !doomed.contains($0.key) }
            }
        }
    }

    // MARK: Members and bans

    public func members() async throws -> [Member] {
        self.state.withLock { Array($0.members.values) }
    }

    public func member(_ id: UUIDString) async throws -> Member? {
        self.state.withLock { $0.members[id] }
    }

    public func registerMember(_ member: Member, inviteCode: String?, now: Int64) async throws -> Member {
        try self.state.withLock { state in
            var group = member.group
            if let inviteCode {
                guard let invite = state.invites[inviteCode] else { throw StoreError.inviteInvalid("This invite is not known here.") }
                if let refusal = invite.refusal(now: now) { throw StoreError.inviteInvalid(refusal) }
                group = invite.group
            }
            let key = X25519Key.canonical(member.publicKey)
            if state.bans.values.contains(where: { $0.userID == member.id || X25519Key.canonical($0.publicKey) == key }) {
                throw StoreError.banned("This identity is banned from this community.")
            }
            if state.members.values.contains(where: { $0.id == member.id || X25519Key.canonical($0.publicKey) == key }) {
                throw StoreError.alreadyRegistered("This user id or public key is already a member of this community.")
            }
            if let inviteCode { state.invites[inviteCode]?.usesLeft -= 1 }
            var stored = member
            stored.group = group
            state.members[stored.id] = stored
            return stored
        }
    }

    public func updateMember(_ member: Member) async throws {
        self.state.withLock { state in
            guard var stored = state.members[member.id] else { return }
            stored.username = member.username
            stored.group = member.group
            stored.status = member.status
            stored.statusText = member.statusText
            stored.suppressed = member.suppressed
            state.members[member.id] = stored
        }
    }

    public func removeMember(_ id: UUIDString, ban: Ban?, vengeance: Bool) async throws -> [String] {
        self.state.withLock { state in
            state.members[id] = nil
            state.homes[id] = nil
            if let ban { state.bans[ban.userID] = ban }
            // A member who is gone no longer counts in any reaction.
            for (slot, reactions) in state.reactions where reactions.contains(where: { $0.member == id }) {
                let kept = reactions.filter { $0.member != id }
                state.reactions[slot] = kept.isEmpty ? nil : kept
            }
            guard vengeance else { return [] }
            for (channel, messages) in state.messages {
                state.messages[channel] = messages.map { message in
                    guard message.senderID == id else { return message }
                    var masked = message
                    masked.text = TextFunction.removedText
                    masked.senderID = nil
                    masked.attachments = []
                    masked.mentions = []
                    masked.mentionsEveryone = false
                    masked.edited = false
                    return masked
                }
            }
            let uploads = state.attachments.filter { $0.value.uploader == id }.map(\.key).sorted()
            for upload in uploads { state.attachments[upload] = nil }
            return uploads
        }
    }

    public func bans() async throws -> [Ban] {
        self.state.withLock { Array($0.bans.values) }.sorted { $0.time > $1.time }
    }

    public func unban(_ id: UUIDString) async throws -> Bool {
        self.state.withLock { $0.bans.removeValue(forKey: id) != nil }
    }

    // MARK: Groups

    public func groups() async throws -> [Group] {
        self.state.withLock { Array($0.groups.values) }.sorted { ($0.power, $1.name) > ($1.power, $0.name) }
    }

    public func saveGroup(_ group: Group) async throws {
        self.state.withLock { $0.groups[group.name] = group }
    }

    public func deleteGroup(_ name: String) async throws {
        _ = self.state.withLock { $0.groups.removeValue(forKey: name) }
    }

    // MARK: Invites

    public func createInvite(_ invite: Invite) async throws {
        try self.state.withLock { state in
            guard state.invites[invite.code] == nil else { throw InMemoryStoreError.constraint("The invite code exists already.") }
            state.invites[invite.code] = invite
        }
    }

    public func invites() async throws -> [Invite] {
        // By creation time, then code, as the other stores list them.
        self.state.withLock { Array($0.invites.values) }.sorted { ($0.createdAt, $0.code) < ($1.createdAt, $1.code) }
    }

    public func revokeInvite(_ code: String) async throws -> Bool {
        self.state.withLock { state in
            guard state.invites[code] != nil else { return false }
            state.invites[code]?.revoked = true
            return true
        }
    }

    // MARK: Attachments

    public func createAttachment(_ attachment: AttachmentInfo, uploader: UUIDString, now: Int64) async throws {
        self.state.withLock { $0.attachments[attachment.attachmentID] = (attachment, uploader) }
    }

    public func attachment(_ id: String) async throws -> (info: AttachmentInfo, uploader: UUIDString)? {
        self.state.withLock { $0.attachments[id] }
    }

    // MARK: Audit

    public func appendAudit(_ entry: AuditEntry) async throws {
        self.state.withLock { $0.audit.append(entry) }
    }

    public func auditLog(limit: Int) async throws -> [AuditEntry] {
        self.state.withLock { Array($0.audit.suffix(limit).reversed()) }
    }

    // MARK: Messages

    public func appendMessage(_ message: NewMessage) async throws -> AppendedMessage {
        let appended = try await self.metrics.measuringCommit({ self.insert(message) }, newMessages: { $0.isNew ? 1 : 0 })
        // Committed as soon as it is in the table: the next write may start.
        PipelinedWrite.queued()
        return appended
    }

    private func insert(_ message: NewMessage) -> AppendedMessage {
        self.state.withLock { state -> AppendedMessage in
            if let number = message.senderNumber,
                let earlier = state.numbers[SenderNumber(sender: message.senderID, number: number)],
                let stored = state.messages[earlier.channel]?[Int(earlier.id - 1)]
            {
                return AppendedMessage(message: stored, isNew: false)
            }
            let id = Int64(state.messages[message.channelID]?.count ?? 0) + 1
            let stored = StoredMessage(
                channelID: message.channelID, messageID: id, senderID: message.senderID, text: message.text, sendTime: message.sendTime,
                kind: message.kind, attachments: message.attachments, replyTo: message.replyTo, mentions: message.mentions,
                mentionsEveryone: message.mentionsEveryone
            )
            state.messages[message.channelID, default: []].append(stored)
            if let number = message.senderNumber {
                state.numbers[SenderNumber(sender: message.senderID, number: number)] = (message.channelID, id)
            }
            return AppendedMessage(message: stored, isNew: true)
        }
    }

    public func messages(channelID: Int64, before: Int64?, skip: Int, limit: Int) async throws -> [StoredMessage] {
        self.state.withLock { state in
            let messages = state.messages[channelID] ?? []
            let top = before ?? Int64(messages.count + 1)
            let upper = min(top - Int64(skip), Int64(messages.count + 1))
            guard upper > 1, limit > 0 else { return [] }
            let lower = max(1, upper - Int64(limit))
            return messages[Int(lower - 1)..<Int(upper - 1)].reversed()
        }
    }

    public func messages(channelID: Int64, ids: [Int64]) async throws -> [StoredMessage] {
        self.state.withLock { state in
            guard let messages = state.messages[channelID] else { return [] }
            return Set(ids).filter { $0 >= 1 && $0 <= Int64(messages.count) }.map { messages[Int($0 - 1)] }
        }
    }

    public func message(channelID: Int64, messageID: Int64) async throws -> StoredMessage? {
        self.state.withLock { state in
            guard let messages = state.messages[channelID], messageID >= 1, messageID <= Int64(messages.count) else { return nil }
            return messages[Int(messageID - 1)]
        }
    }

    public func updateMessage(
        channelID: Int64, messageID: Int64, text: String, senderID: UUIDString?, mentions: [UUIDString], everyone: Bool
    ) async throws {
        self.state.withLock { state in
            guard let count = state.messages[channelID]?.count, messageID >= 1, messageID <= Int64(count) else { return }
            let index = Int(messageID - 1)
            state.messages[channelID]![index].text = text
            state.messages[channelID]![index].senderID = senderID
            state.messages[channelID]![index].edited = senderID != nil
            if senderID == nil { state.messages[channelID]![index].attachments = [] }
            state.messages[channelID]![index].mentions = senderID == nil ? [] : mentions
            state.messages[channelID]![index].mentionsEveryone = senderID != nil && everyone
        }
    }

    // MARK: Pins

    public func pin(_ pin: Pin, limit: Int) async throws -> PinChange {
        self.state.withLock { state in
            let pins = state.pins[pin.channelID] ?? []
            if let earlier = pins.first(where: { $0.messageID == pin.messageID }) { return .alreadyPinned(earlier) }
            guard pins.count < limit else { return .full }
            state.pins[pin.channelID, default: []].append(pin)
            return .pinned
        }
    }

    public func unpin(channelID: Int64, messageID: Int64) async throws -> Bool {
        self.state.withLock { state in
            let pins = state.pins[channelID] ?? []
            state.pins[channelID] = pins.filter { $0.messageID != messageID }
            return state.pins[channelID]!.count < pins.count
        }
    }

    public func pins(channelID: Int64) async throws -> [Pin] {
        self.state.withLock { state in
            (state.pins[channelID] ?? []).sorted { ($0.time, $0.messageID) > ($1.time, $1.messageID) }
        }
    }

    // MARK: Reactions

    public func addReaction(_ reaction: Reaction, limits: ReactionLimits) async throws -> ReactionChange {
        self.state.withLock { state in
            let slot = MessageSlot(channel: reaction.channelID, message: reaction.messageID)
            let all = state.reactions[slot] ?? []
            let count = Int64(all.count { $0.emoji == reaction.emoji })
            if all.contains(where: { $0.emoji == reaction.emoji && $0.member == reaction.member }) { return .unchanged(count: count) }
            if all.count(where: { $0.member == reaction.member }) >= limits.maxPerMember { return .memberFull }
            if count == 0, Set(all.map(\.emoji)).count >= limits.maxPerMessage { return .messageFull }
            state.reactions[slot, default: []].append(reaction)
            return .changed(count: count + 1)
        }
    }

    public func removeReaction(_ reaction: Reaction) async throws -> ReactionChange {
        self.state.withLock { state in
            let slot = MessageSlot(channel: reaction.channelID, message: reaction.messageID)
            let all = state.reactions[slot] ?? []
            let kept = all.filter { !($0.emoji == reaction.emoji && $0.member == reaction.member) }
            state.reactions[slot] = kept.isEmpty ? nil : kept
            let count = Int64(kept.count { $0.emoji == reaction.emoji })
            return kept.count < all.count ? .changed(count: count) : .unchanged(count: count)
        }
    }

    public func reactions(channelID: Int64, messageIDs: [Int64], viewer: UUIDString) async throws -> [Int64: [ReactionCount]] {
        self.state.withLock { state in
            var found: [Int64: [ReactionCount]] = [:]
            for id in Set(messageIDs) {
                guard let all = state.reactions[MessageSlot(channel: channelID, message: id)] else { continue }
                let byEmoji = Dictionary(grouping: all, by: \.emoji)
                found[id] = byEmoji.map { emoji, list in
                    (first: list.map(\.time).min() ?? 0, ReactionCount(emoji: emoji, count: Int64(list.count), me: list.contains { $0.member == viewer }))
                }
                .sorted { ($0.first, $0.1.emoji) < ($1.first, $1.1.emoji) }
                .map(\.1)
            }
            return found
        }
    }

    public func reactors(channelID: Int64, messageID: Int64, emoji: String, skip: Int, limit: Int) async throws -> [UUIDString] {
        self.state.withLock { state in
            let list = (state.reactions[MessageSlot(channel: channelID, message: messageID)] ?? []).filter { $0.emoji == emoji }
            return Array(list.sorted { ($0.time, $0.member.value) < ($1.time, $1.member.value) }.map(\.member).dropFirst(skip).prefix(limit))
        }
    }

    // MARK: Search

    public func searchMessages(_ search: MessageSearch) async throws -> [SearchHit] {
        let candidates = self.state.withLock { state in search.channelIDs.flatMap { state.messages[$0] ?? [] } }
        return try search.scan(candidates)
    }

    // MARK: Read state

    public func readMarks(memberID: UUIDString) async throws -> [Int64: Int64] {
        self.state.withLock { $0.readMarks[memberID] ?? [:] }
    }

    public func saveReadMarks(_ marks: [ReadMark]) async throws {
        self.state.withLock { state in
            for mark in marks {
                state.readMarks[mark.memberID, default: [:]][mark.channelID] = max(state.readMarks[mark.memberID]?[mark.channelID] ?? 0, mark.messageID)
            }
        }
    }

    public func lastMessageIDs(channelIDs: [Int64]) async throws -> [Int64: Int64] {
        self.state.withLock { state in
            Dictionary(channelIDs.map { ($0, Int64(state.messages[$0]?.count ?? 0)) }, uniquingKeysWith: { first, _ in first })
        }
    }

    public func mentionCounts(memberID: UUIDString, after marks: [Int64: Int64]) async throws -> [Int64: Int64] {
        self.state.withLock { state in
            marks.reduce(into: [:]) { counts, mark in
                let unread = (state.messages[mark.key] ?? []).dropFirst(Int(clamping: max(mark.value, 0)))
                counts[mark.key] = Int64(
                    unread.count { message in
                        message.senderID != nil && message.senderID != memberID && (message.mentionsEveryone || message.mentions.contains(memberID))
                    }
                )
            }
        }
    }
}

/// A write the in-memory store refused, as the SQLite store's constraints would.
public enum InMemoryStoreError: Error, Sendable, Hashable {
    case constraint(String)
}
