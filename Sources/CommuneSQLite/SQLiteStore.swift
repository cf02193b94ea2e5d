import CommuneCore
import CommuneProtocol
import Foundation
import GRDB
import Logging

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

    /// Opens (creating if needed) the store in `directory`; `durability` sets SQLite's `synchronous`; `metrics`
    /// receives each message commit's duration and count (the server's `/metrics`).
    public init(directory: URL, durability: Durability = .normal, metrics: StoreMetrics = .disabled) throws {
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
        self.writer = MessageWriter(pool: self.pool, metrics: metrics)
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

    /// The names of the migrations this file has had (GRDB's `grdb_migrations`), in version order
    /// (``MigrationOrder``: `v10` after `v9`), as ``PostgresStore`` lists its own.
    public func appliedMigrations() async throws -> [String] {
        MigrationOrder.sorted(try await self.pool.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") })
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
                    arguments: [group.name, StoredColumns.encode(permissions: group.permissions), group.power]
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
        // Structured audit entries and bans: an entry's sentence moves to `text` beside an action word and a
        // target (older entries: `other`, no target); a ban keeps the banning member's id beside their name
        // (older bans: the name only, `banned_by` NULL, for a name cannot be told back into an id reliably).
        migrator.registerMigration("v5-audit-actions-ban-ids") { db in
            try db.execute(
                sql: """
                    ALTER TABLE audit_log RENAME COLUMN action TO text;
                    ALTER TABLE audit_log ADD COLUMN action TEXT NOT NULL DEFAULT 'other';
                    ALTER TABLE audit_log ADD COLUMN target TEXT NOT NULL DEFAULT '';
                    ALTER TABLE bans RENAME COLUMN banned_by TO banned_by_name;
                    ALTER TABLE bans ADD COLUMN banned_by TEXT;
                    """
            )
        }
        // Replies: a message may name the message (in its channel) it answers.
        migrator.registerMigration("v6-message-replies") { db in
            try db.execute(sql: "ALTER TABLE messages ADD COLUMN reply_to INTEGER")
        }
        // Full-text search of messages (SQLiteStore+Search.swift): the index, its triggers, and every message so far.
        migrator.registerMigration("v7-message-search") { db in
            let logger = Logger(label: "commune.sqlite")
            try Self.createSearchIndex(db) { done, total in
                logger.info("Indexing messages for search: \(done) of \(total)")
            }
        }
        // Read state (SQLiteStore+ReadState.swift): where each member stopped reading each channel.
        migrator.registerMigration("v8-read-marks") { db in
            try db.execute(
                sql: """
                    CREATE TABLE read_marks (
                        member_id TEXT NOT NULL,
                        channel_id INTEGER NOT NULL,
                        message_id INTEGER NOT NULL,
                        PRIMARY KEY (member_id, channel_id)
                    ) WITHOUT ROWID;
                    """
            )
        }
        // Reactions (SQLiteStore+Reactions.swift): one row per member, message and emoji.
        migrator.registerMigration("v9-message-reactions") { db in
            try db.execute(
                sql: """
                    CREATE TABLE reactions (
                        channel_id INTEGER NOT NULL,
                        message_id INTEGER NOT NULL,
                        emoji TEXT NOT NULL,
                        user_id TEXT NOT NULL,
                        time INTEGER NOT NULL,
                        PRIMARY KEY (channel_id, message_id, emoji, user_id)
                    ) WITHOUT ROWID;
                    """
            )
        }
        // Pins (SQLiteStore+Pins.swift), and the moderator group of an existing community gets pin_messages as a
        // new one does.
        migrator.registerMigration("v10-message-pins") { db in
            try db.execute(
                sql: """
                    CREATE TABLE pins (
                        channel_id INTEGER NOT NULL,
                        message_id INTEGER NOT NULL,
                        pinned_by TEXT NOT NULL,
                        time INTEGER NOT NULL,
                        PRIMARY KEY (channel_id, message_id)
                    ) WITHOUT ROWID;
                    UPDATE groups SET permissions = CASE WHEN permissions = '' THEN 'pin_messages' ELSE permissions || ',pin_messages' END
                    WHERE name = 'moderator' AND ',' || permissions || ',' NOT LIKE '%,pin_messages,%';
                    """
            )
        }
        // Mentions (TextMentions): a message keeps the ids it mentions (`mentions`, comma-separated) and whether it mentions
        // everyone; the `mentions` table (one row per mentioned member, '' for everyone) counts a member's unread
        // mentions from their read mark. The moderator group of an existing community gets mention_everyone as a new
        // one does.
        migrator.registerMigration("v11-message-mentions") { db in
            try db.execute(
                sql: """
                    ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '';
                    ALTER TABLE messages ADD COLUMN mentions_everyone INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE mentions (
                        user_id TEXT NOT NULL,
                        channel_id INTEGER NOT NULL,
                        message_id INTEGER NOT NULL,
                        PRIMARY KEY (user_id, channel_id, message_id)
                    ) WITHOUT ROWID;
                    UPDATE groups SET permissions = CASE WHEN permissions = '' THEN 'mention_everyone' ELSE permissions || ',mention_everyone' END
                    WHERE name = 'moderator' AND ',' || permissions || ',' NOT LIKE '%,mention_everyone,%';
                    """
            )
        }
        // Homes (SQLiteStore+Home.swift): each member's list of communities, sealed by their client; positions are
        // unique per member, and entry_id is indexed to tell another member's entry (forbidden) from none.
        migrator.registerMigration("v12-home-entries") { db in
            try db.execute(
                sql: """
                    CREATE TABLE home_entries (
                        member_id TEXT NOT NULL,
                        entry_id TEXT NOT NULL,
                        position TEXT NOT NULL,
                        address TEXT NOT NULL,
                        title TEXT NOT NULL,
                        secret TEXT,
                        updated_at INTEGER NOT NULL,
                        PRIMARY KEY (member_id, entry_id),
                        UNIQUE (member_id, position)
                    ) WITHOUT ROWID;
                    CREATE INDEX home_entries_entry ON home_entries (entry_id);
                    """
            )
        }
        return migrator
    }
}
