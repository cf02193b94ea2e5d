import CommuneCore
import CommuneProtocol
import Foundation
import GRDB

/// The community store on an embedded SQLite database (GRDB, write-ahead log).
///
/// One file, `commune.sqlite`, in the data folder. WAL mode lets administration commands (`commune invite create`)
/// write while the server runs. Messages are appended through a ``MessageWriter`` that commits concurrent sends in
/// one transaction (group commit); a send is acknowledged only after its transaction commits.
///
/// Message ids are dense per channel (1, 2, 3, …): messages are never deleted, only masked, so a page can be found
/// by id arithmetic instead of an `OFFSET` scan.
public final class SQLiteStore: CommunityStore {
    public let databaseURL: URL
    let pool: DatabasePool
    let writer: MessageWriter

    /// The database file's name inside the data folder.
    public static let fileName = "commune.sqlite"

    /// What an acknowledged write survives (``Durability``).
    public let durability: Durability

    /// Opens (creating if needed) the store in `directory`; `durability` sets SQLite's `synchronous`.
    public init(directory: URL, durability: Durability = .normal) throws {
        self.durability = durability
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]
        )
        self.databaseURL = directory.appendingPathComponent(Self.fileName)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(durability.pragma)")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        self.pool = try DatabasePool(path: self.databaseURL.path, configuration: configuration)
        // GRDB sets `synchronous = NORMAL` on the pool's one writing connection when it turns WAL on, after
        // `prepareDatabase`: set it again there, where it counts.
        try self.pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = \(durability.pragma)") }
        try Self.migrator.migrate(self.pool)
        self.writer = MessageWriter(pool: self.pool)
    }

    /// SQLite's `synchronous` on a reading and on the writing connection (0 OFF, 1 NORMAL, 2 FULL): what
    /// ``durability`` set, for diagnostics and tests.
    func synchronousSettings() async throws -> (read: Int?, write: Int?) {
        let read = try await self.pool.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") }
        let write = try await self.pool.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") }
        return (read, write)
    }

    /// Whether `directory` holds a store already.
    public static func exists(in directory: URL) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent(Self.fileName).path)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE settings (
                        key TEXT PRIMARY KEY NOT NULL,
                        value TEXT NOT NULL
                    );
                    CREATE TABLE interactables (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        parent_id INTEGER REFERENCES interactables(id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        codec TEXT NOT NULL,
                        position INTEGER NOT NULL
                    );
                    CREATE UNIQUE INDEX interactables_sibling_name ON interactables(ifnull(parent_id, 0), name);
                    CREATE TABLE members (
                        user_id TEXT PRIMARY KEY NOT NULL,
                        username TEXT NOT NULL,
                        public_key BLOB NOT NULL UNIQUE,
                        group_name TEXT NOT NULL,
                        joined_at INTEGER NOT NULL
                    );
                    CREATE TABLE invites (
                        code TEXT PRIMARY KEY NOT NULL,
                        group_name TEXT NOT NULL,
                        uses_left INTEGER NOT NULL,
                        expires_at INTEGER,
                        created_at INTEGER NOT NULL,
                        revoked INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE TABLE messages (
                        channel_id INTEGER NOT NULL,
                        message_id INTEGER NOT NULL,
                        sender_id TEXT,
                        body TEXT NOT NULL,
                        send_time INTEGER NOT NULL,
                        PRIMARY KEY (channel_id, message_id)
                    ) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration("v2-groups") { db in
            try db.execute(
                sql: """
                    CREATE TABLE groups (
                        name TEXT PRIMARY KEY NOT NULL,
                        permissions TEXT NOT NULL,
                        power INTEGER NOT NULL
                    );
                    """
            )
            for group in Group.defaults {
                try db.execute(
                    sql: "INSERT INTO groups (name, permissions, power) VALUES (?, ?, ?)",
                    arguments: [group.name, Self.encode(group.permissions), group.power]
                )
            }
        }
        migrator.registerMigration("v3-audit") { db in
            try db.execute(
                sql: """
                    CREATE TABLE audit_log (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        actor_id TEXT NOT NULL,
                        actor_name TEXT NOT NULL,
                        action TEXT NOT NULL,
                        time INTEGER NOT NULL
                    );
                    """
            )
        }
        migrator.registerMigration("v4-members-messages-attachments") { db in
            try db.execute(
                sql: """
                    ALTER TABLE members ADD COLUMN status TEXT NOT NULL DEFAULT 'online';
                    ALTER TABLE members ADD COLUMN status_text TEXT NOT NULL DEFAULT '';
                    ALTER TABLE members ADD COLUMN suppressed INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE bans (
                        user_id TEXT PRIMARY KEY NOT NULL,
                        public_key BLOB NOT NULL UNIQUE,
                        username TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        banned_by TEXT NOT NULL,
                        time INTEGER NOT NULL
                    );
                    ALTER TABLE interactables ADD COLUMN properties TEXT NOT NULL DEFAULT '';
                    ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';
                    ALTER TABLE messages ADD COLUMN edited INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE messages ADD COLUMN attachments TEXT NOT NULL DEFAULT '';
                    ALTER TABLE messages ADD COLUMN sender_number INTEGER;
                    CREATE UNIQUE INDEX messages_sender_number ON messages(sender_id, sender_number);
                    CREATE TABLE attachments (
                        id TEXT PRIMARY KEY NOT NULL,
                        uploader TEXT NOT NULL,
                        type TEXT NOT NULL,
                        width INTEGER NOT NULL,
                        height INTEGER NOT NULL,
                        size INTEGER NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    CREATE INDEX attachments_uploader ON attachments(uploader);
                    """
            )
        }
        return migrator
    }

    // MARK: JSON columns

    static func encode(properties: [String: String]) -> String {
        properties.isEmpty ? "" : JSONValue.object(properties.mapValues { .string($0) }).jsonString
    }

    static func decodeProperties(_ text: String) -> [String: String] {
        guard !text.isEmpty, let object = (try? JSONValue.parse(text))?.objectValue else { return [:] }
        return object.compactMapValues { $0.stringValue }
    }

    static func encode(attachments: [AttachmentInfo]) -> String {
        attachments.isEmpty ? "" : JSONValue.array(attachments.map(\.json)).jsonString
    }

    static func decodeAttachments(_ text: String) -> [AttachmentInfo] {
        guard !text.isEmpty, let list = (try? JSONValue.parse(text))?.arrayValue else { return [] }
        return list.compactMap { try? AttachmentInfo(json: $0) }
    }

    public func appendAudit(_ entry: AuditEntry) async throws {
        try await self.pool.write { db in
            try db.execute(
                sql: "INSERT INTO audit_log (actor_id, actor_name, action, time) VALUES (?, ?, ?, ?)",
                arguments: [entry.actorID.value, entry.actorName, entry.action, entry.time]
            )
        }
    }

    public func auditLog(limit: Int) async throws -> [AuditEntry] {
        try await self.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT actor_id, actor_name, action, time FROM audit_log ORDER BY id DESC LIMIT ?", arguments: [limit]
            ).compactMap { row in
                guard let id = UUIDString(row["actor_id"]) else { return nil }
                return AuditEntry(actorID: id, actorName: row["actor_name"], action: row["action"], time: row["time"])
            }
        }
    }

    static func encode(_ permissions: Set<Permission>) -> String {
        permissions.map(\.rawValue).sorted().joined(separator: ",")
    }

    static func decodePermissions(_ text: String) -> Set<Permission> {
        Set(text.split(separator: ",").map { Permission(rawValue: String($0)) })
    }

    // MARK: Settings

    public func settings() async throws -> [String: String] {
        try await self.pool.read { db in
            var result: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key, value FROM settings") {
                result[row["key"]] = row["value"]
            }
            return result
        }
    }

    public func setSettingIfAbsent(_ key: String, _ value: String) async throws -> String {
        try await self.pool.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)", arguments: [key, value])
            return try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key]) ?? value
        }
    }

    public func setSetting(_ key: String, _ value: String) async throws {
        try await self.pool.write { db in
            try db.execute(
                sql: "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [key, value]
            )
        }
    }

    // MARK: Interactables

    public func interactables() async throws -> [Interactable] {
        try await self.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, parent_id, name, codec, position, properties FROM interactables").map(Self.interactable)
        }
    }

    public func createInteractables(_ nodes: [NewInteractable]) async throws -> [Interactable] {
        try await self.pool.write { db in
            try nodes.map { node in
                try db.execute(
                    sql: "INSERT INTO interactables (parent_id, name, codec, position, properties) VALUES (?, ?, ?, ?, ?)",
                    arguments: [node.parentID, node.name, node.codec, node.position, Self.encode(properties: node.properties)]
                )
                return Interactable(
                    id: db.lastInsertedRowID, parentID: node.parentID, name: node.name, codec: node.codec, position: node.position,
                    properties: node.properties
                )
            }
        }
    }

    public func updateInteractables(_ nodes: [Interactable]) async throws {
        try await self.pool.write { db in
            // Park moved names first so that swapping two siblings' names never trips the unique index.
            for node in nodes {
                try db.execute(
                    sql: "UPDATE interactables SET name = ? WHERE id = ?", arguments: ["/moving/\(node.id)", node.id]
                )
            }
            for node in nodes {
                try db.execute(
                    sql: "UPDATE interactables SET name = ?, parent_id = ?, position = ? WHERE id = ?",
                    arguments: [node.name, node.parentID, node.position, node.id]
                )
            }
        }
    }

    public func deleteInteractables(_ ids: [Int64]) async throws {
        try await self.pool.write { db in
            for id in ids {
                try db.execute(sql: "DELETE FROM messages WHERE channel_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM interactables WHERE id = ?", arguments: [id])
            }
        }
    }

    static func interactable(_ row: Row) -> Interactable {
        Interactable(
            id: row["id"], parentID: row["parent_id"], name: row["name"], codec: row["codec"], position: row["position"],
            properties: Self.decodeProperties(row["properties"])
        )
    }

    public func setProperties(_ properties: [String: String], of interactable: Int64) async throws {
        try await self.pool.write { db in
            try db.execute(
                sql: "UPDATE interactables SET properties = ? WHERE id = ?", arguments: [Self.encode(properties: properties), interactable]
            )
        }
    }

    // MARK: Members and invites

    public func members() async throws -> [Member] {
        try await self.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT user_id, username, public_key, group_name, joined_at, status, status_text, suppressed FROM members"
            ).compactMap { row in
                guard let id = UUIDString(row["user_id"]) else { return nil }
                let key: Data = row["public_key"]
                var member = Member(id: id, username: row["username"], publicKey: Array(key), group: row["group_name"], joinedAt: row["joined_at"])
                member.status = MemberStatus(rawValue: row["status"]) ?? .online
                member.statusText = row["status_text"]
                member.suppressed = row["suppressed"]
                return member
            }
        }
    }

    public func registerMember(_ member: Member, inviteCode: String?, now: Int64) async throws -> Member {
        try await Self.mappingFullDisk { try await self.pool.write { db in
            var invite: Invite?
            if let inviteCode {
                guard let row = try Row.fetchOne(
                    db,
                    sql: "SELECT code, group_name, uses_left, expires_at, created_at, revoked FROM invites WHERE code = ?",
                    arguments: [inviteCode]
                ) else {
                    throw StoreError.inviteInvalid("This invite is not known here.")
                }
                invite = Self.invite(row)
                if let refusal = invite?.refusal(now: now) {
                    throw StoreError.inviteInvalid(refusal)
                }
            }
            // A key matches in any of its spellings (a row written before keys were stored canonical may hold another).
            let keys = X25519Key.encodings(of: member.publicKey).map { Data($0) }
            let keyList = Array(repeating: "?", count: keys.count).joined(separator: ", ")
            let arguments = StatementArguments([member.id.value]) + StatementArguments(keys)
            let banned = try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM bans WHERE user_id = ? OR public_key IN (\(keyList)))", arguments: arguments
            ) ?? false
            if banned {
                throw StoreError.banned("This identity is banned from this community.")
            }
            let taken = try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM members WHERE user_id = ? OR public_key IN (\(keyList)))", arguments: arguments
            ) ?? false
            if taken {
                throw StoreError.alreadyRegistered("This user id or public key is already a member of this community.")
            }
            var stored = member
            if let invite {
                try db.execute(sql: "UPDATE invites SET uses_left = uses_left - 1 WHERE code = ?", arguments: [invite.code])
                stored.group = invite.group
            }
            try db.execute(
                sql: "INSERT INTO members (user_id, username, public_key, group_name, joined_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [stored.id.value, stored.username, Data(stored.publicKey), stored.group, stored.joinedAt]
            )
            return stored
        } }
    }

    public func updateMember(_ member: Member) async throws {
        try await self.pool.write { db in
            try db.execute(
                sql: "UPDATE members SET username = ?, group_name = ?, status = ?, status_text = ?, suppressed = ? WHERE user_id = ?",
                arguments: [member.username, member.group, member.status.rawValue, member.statusText, member.suppressed, member.id.value]
            )
        }
    }

    public func removeMember(_ id: UUIDString, ban: Ban?, vengeance: Bool) async throws -> [String] {
        try await self.pool.write { db in
            try db.execute(sql: "DELETE FROM members WHERE user_id = ?", arguments: [id.value])
            if let ban {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO bans (user_id, public_key, username, reason, banned_by, time) VALUES (?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [ban.userID.value, Data(ban.publicKey), ban.username, ban.reason, ban.bannedBy, ban.time]
                )
            }
            guard vengeance else { return [] }
            try db.execute(
                sql: "UPDATE messages SET body = ?, sender_id = NULL, attachments = '', edited = 0 WHERE sender_id = ?",
                arguments: [TextFunction.removedText, id.value]
            )
            let uploads = try String.fetchAll(db, sql: "SELECT id FROM attachments WHERE uploader = ?", arguments: [id.value])
            try db.execute(sql: "DELETE FROM attachments WHERE uploader = ?", arguments: [id.value])
            return uploads
        }
    }

    public func bans() async throws -> [Ban] {
        try await self.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT user_id, public_key, username, reason, banned_by, time FROM bans ORDER BY time DESC").compactMap { row in
                guard let id = UUIDString(row["user_id"]) else { return nil }
                let key: Data = row["public_key"]
                return Ban(userID: id, publicKey: Array(key), username: row["username"], reason: row["reason"], bannedBy: row["banned_by"], time: row["time"])
            }
        }
    }

    public func unban(_ id: UUIDString) async throws -> Bool {
        try await self.pool.write { db in
            try db.execute(sql: "DELETE FROM bans WHERE user_id = ?", arguments: [id.value])
            return db.changesCount > 0
        }
    }

    // MARK: Attachments

    public func createAttachment(_ attachment: AttachmentInfo, uploader: UUIDString, now: Int64) async throws {
        try await self.pool.write { db in
            try db.execute(
                sql: "INSERT INTO attachments (id, uploader, type, width, height, size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [attachment.attachmentID, uploader.value, attachment.type, attachment.width, attachment.height, attachment.size, now]
            )
        }
    }

    public func attachment(_ id: String) async throws -> (info: AttachmentInfo, uploader: UUIDString)? {
        try await self.pool.read { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT id, uploader, type, width, height, size FROM attachments WHERE id = ?", arguments: [id]
            ), let uploader = UUIDString(row["uploader"]) else { return nil }
            let info = AttachmentInfo(attachmentID: row["id"], type: row["type"], width: row["width"], height: row["height"], size: row["size"])
            return (info, uploader)
        }
    }

    // MARK: Invites

    public func createInvite(_ invite: Invite) async throws {
        try await self.pool.write { db in
            try db.execute(
                sql: "INSERT INTO invites (code, group_name, uses_left, expires_at, created_at, revoked) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [invite.code, invite.group, invite.usesLeft, invite.expiresAt, invite.createdAt, invite.revoked]
            )
        }
    }

    public func invites() async throws -> [Invite] {
        try await self.pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT code, group_name, uses_left, expires_at, created_at, revoked FROM invites ORDER BY created_at"
            ).map(Self.invite)
        }
    }

    public func revokeInvite(_ code: String) async throws -> Bool {
        try await self.pool.write { db in
            try db.execute(sql: "UPDATE invites SET revoked = 1 WHERE code = ?", arguments: [code])
            return db.changesCount > 0
        }
    }

    // MARK: Groups

    public func groups() async throws -> [Group] {
        try await self.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT name, permissions, power FROM groups ORDER BY power DESC, name").map { row in
                Group(name: row["name"], permissions: Self.decodePermissions(row["permissions"]), power: row["power"])
            }
        }
    }

    public func saveGroup(_ group: Group) async throws {
        try await self.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO groups (name, permissions, power) VALUES (?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET permissions = excluded.permissions, power = excluded.power
                    """,
                arguments: [group.name, Self.encode(group.permissions), group.power]
            )
        }
    }

    public func deleteGroup(_ name: String) async throws {
        try await self.pool.write { db in
            try db.execute(sql: "DELETE FROM groups WHERE name = ?", arguments: [name])
        }
    }


    static func invite(_ row: Row) -> Invite {
        Invite(
            code: row["code"], group: row["group_name"], usesLeft: row["uses_left"], expiresAt: row["expires_at"],
            createdAt: row["created_at"], revoked: row["revoked"]
        )
    }

    // MARK: Messages

    public func appendMessage(_ message: NewMessage) async throws -> AppendedMessage {
        try await Self.mappingFullDisk { try await self.writer.append(message) }
    }

    /// Runs a write, turning SQLite's "database or disk is full" into ``StoreError/storageFull``.
    static func mappingFullDisk<T>(_ write: () async throws -> T) async throws -> T {
        do {
            return try await write()
        } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
            throw StoreError.storageFull
        }
    }

    public func message(channelID: Int64, messageID: Int64) async throws -> StoredMessage? {
        try await self.pool.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT \(Self.messageColumns) FROM messages WHERE channel_id = ? AND message_id = ?",
                arguments: [channelID, messageID]
            ).map { row in Self.message(row, channelID: channelID) }
        }
    }

    public func updateMessage(channelID: Int64, messageID: Int64, text: String, senderID: UUIDString?) async throws {
        try await self.pool.write { db in
            try db.execute(
                sql: """
                    UPDATE messages SET body = ?, sender_id = ?, edited = ?,
                        attachments = CASE WHEN ? IS NULL THEN '' ELSE attachments END
                    WHERE channel_id = ? AND message_id = ?
                    """,
                arguments: [text, senderID?.value, senderID != nil, senderID?.value, channelID, messageID]
            )
        }
    }

    /// The columns ``message(_:channelID:)`` reads.
    static let messageColumns = "message_id, sender_id, body, send_time, kind, edited, attachments"

    static func message(_ row: Row, channelID: Int64) -> StoredMessage {
        StoredMessage(
            channelID: channelID, messageID: row["message_id"],
            senderID: (row["sender_id"] as String?).flatMap(UUIDString.init), text: row["body"], sendTime: row["send_time"],
            kind: MessageKind(rawValue: row["kind"]) ?? .text, edited: row["edited"], attachments: Self.decodeAttachments(row["attachments"])
        )
    }

    public func messages(channelID: Int64, before: Int64?, skip: Int, limit: Int) async throws -> [StoredMessage] {
        try await self.pool.read { db in
            let top: Int64
            if let before {
                top = before
            } else {
                let newest = try Int64.fetchOne(
                    db, sql: "SELECT max(message_id) FROM messages WHERE channel_id = ?", arguments: [channelID]
                ) ?? 0
                top = newest + 1
            }
            // Ids are dense, so the `skip` newest messages below `top` are exactly those with ids ≥ top - skip.
            let upper = top - Int64(skip)
            guard upper > 1 else { return [] }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.messageColumns) FROM messages
                    WHERE channel_id = ? AND message_id < ? ORDER BY message_id DESC LIMIT ?
                    """,
                arguments: [channelID, upper, limit]
            ).map { row in Self.message(row, channelID: channelID) }
        }
    }
}
