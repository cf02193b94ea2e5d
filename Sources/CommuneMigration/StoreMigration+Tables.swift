import Foundation
import GRDB
import NIOCore

extension StoreMigration {
    /// A table copied as it is: the same name and columns on both sides (PostgresSchema mirrors the SQLite schema),
    /// read in the order of `key` (unique), so that each batch starts after the previous one's last key.
    struct Table: Sendable {
        enum Kind: Sendable {
            case text, integer, boolean, bytes
        }

        struct Column: Sendable {
            var name: String
            var kind: Kind
        }

        var name: String
        var columns: [Column]
        var key: [String]
        /// Where each key column is among `columns`.
        var keyIndexes: [Int]

        init(_ name: String, key: [String], _ columns: [(String, Kind)]) {
            self.name = name
            self.columns = columns.map { Column(name: $0.0, kind: $0.1) }
            self.key = key
            self.keyIndexes = key.compactMap { key in columns.firstIndex { $0.0 == key } }
            precondition(self.keyIndexes.count == key.count, "\(name)'s key columns must be among its columns")
        }

        /// Up to `limit` rows after `after` (the key of the previous batch's last row), in COPY's text format.
        func batch(_ db: Database, after: [DatabaseValue]?, limit: Int) throws -> (data: ByteBuffer, rows: Int, lastKey: [DatabaseValue]?) {
            let keyList = self.key.joined(separator: ", ")
            let placeholders = self.key.map { _ in "?" }.joined(separator: ", ")
            let condition = after == nil ? "" : "WHERE (\(keyList)) > (\(placeholders))"
            let sql = "SELECT \(self.columns.map(\.name).joined(separator: ", ")) FROM \(self.name) \(condition) ORDER BY \(keyList) LIMIT \(limit)"
            var buffer = ByteBuffer()
            var rows = 0
            var lastKey: [DatabaseValue]? = nil
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: StatementArguments(after ?? []))
            while let row = try cursor.next() {
                for (index, column) in self.columns.enumerated() {
                    if index > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
                    try Self.append(row[index] as DatabaseValue, as: column, of: self.name, to: &buffer)
                }
                buffer.writeInteger(UInt8(ascii: "\n"))
                rows += 1
                lastKey = self.keyIndexes.map { row[$0] as DatabaseValue }
            }
            return (buffer, rows, lastKey)
        }

        /// One value in COPY's text format: `\N` for NULL, `t`/`f`, decimal integers, bytea as `\\x` and hex, and
        /// text byte for byte with backslash and the control characters escaped (as octal).
        static func append(_ value: DatabaseValue, as column: Column, of table: String, to buffer: inout ByteBuffer) throws {
            switch (value.storage, column.kind) {
            case (.null, _):
                buffer.writeStaticString("\\N")
            case (.int64(let number), .boolean):
                buffer.writeStaticString(number != 0 ? "t" : "f")
            case (.int64(let number), .integer):
                buffer.writeString(String(number))
            case (.blob(let data), .bytes):
                buffer.writeStaticString("\\\\x")
                for byte in data {
                    buffer.writeInteger(Self.hexDigits[Int(byte >> 4)])
                    buffer.writeInteger(Self.hexDigits[Int(byte & 0xF)])
                }
            case (.string(let text), .text):
                var text = text
                text.withUTF8 { Self.appendEscaped($0, to: &buffer) }
            case (.blob(let data), .text):
                data.withUnsafeBytes { Self.appendEscaped($0.bindMemory(to: UInt8.self), to: &buffer) }
            default:
                throw StoreMigrationError.unexpectedValue(table: table, column: column.name, value: value.description)
            }
        }

        private static let hexDigits = Array("0123456789abcdef".utf8)

        private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to buffer: inout ByteBuffer) {
            // Most text needs no escape: one copy.
            guard bytes.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\\") }) else {
                buffer.writeBytes(bytes)
                return
            }
            for byte in bytes {
                if byte == UInt8(ascii: "\\") {
                    buffer.writeStaticString("\\\\")
                } else if byte < 0x20 || byte == 0x7F {
                    buffer.writeInteger(UInt8(ascii: "\\"))
                    buffer.writeInteger(UInt8(ascii: "0") + (byte >> 6))
                    buffer.writeInteger(UInt8(ascii: "0") + (byte >> 3 & 7))
                    buffer.writeInteger(UInt8(ascii: "0") + (byte & 7))
                } else {
                    buffer.writeInteger(byte)
                }
            }
        }
    }

    /// Every table of the community, in PostgresSchema's names and columns (`channel_heads` is made from `messages`;
    /// `sessions` has no SQLite counterpart).
    static let tables: [Table] = [
        Table("settings", key: ["key"], [("key", .text), ("value", .text)]),
        Table("groups", key: ["name"], [("name", .text), ("permissions", .text), ("power", .integer)]),
        Table(
            "interactables", key: ["id"],
            [("id", .integer), ("parent_id", .integer), ("name", .text), ("codec", .text), ("position", .integer), ("properties", .text)]
        ),
        Table(
            "members", key: ["user_id"],
            [
                ("user_id", .text), ("username", .text), ("public_key", .bytes), ("group_name", .text), ("joined_at", .integer),
                ("status", .text), ("status_text", .text), ("suppressed", .boolean),
            ]
        ),
        Table(
            "bans", key: ["user_id"],
            [
                ("user_id", .text), ("public_key", .bytes), ("username", .text), ("reason", .text), ("banned_by_name", .text),
                ("banned_by", .text), ("time", .integer),
            ]
        ),
        // In the SQLite store's listing order, so that PostgreSQL's `position` numbers them the same way.
        Table(
            "invites", key: ["created_at", "code"],
            [
                ("code", .text), ("group_name", .text), ("uses_left", .integer), ("expires_at", .integer), ("created_at", .integer),
                ("revoked", .boolean),
            ]
        ),
        Table(
            "attachments", key: ["id"],
            [
                ("id", .text), ("uploader", .text), ("type", .text), ("width", .integer), ("height", .integer), ("size", .integer),
                ("created_at", .integer),
            ]
        ),
        Table(
            "audit_log", key: ["id"],
            [("id", .integer), ("actor_id", .text), ("actor_name", .text), ("action", .text), ("target", .text), ("text", .text), ("time", .integer)]
        ),
        Table(
            "messages", key: ["channel_id", "message_id"],
            [
                ("channel_id", .integer), ("message_id", .integer), ("sender_id", .text), ("body", .text), ("send_time", .integer),
                ("kind", .text), ("edited", .boolean), ("attachments", .text), ("sender_number", .integer), ("reply_to", .integer),
                ("mentions", .text), ("mentions_everyone", .boolean),
            ]
        ),
        Table("mentions", key: ["user_id", "channel_id", "message_id"], [("user_id", .text), ("channel_id", .integer), ("message_id", .integer)]),
        Table("read_marks", key: ["member_id", "channel_id"], [("member_id", .text), ("channel_id", .integer), ("message_id", .integer)]),
        Table(
            "reactions", key: ["channel_id", "message_id", "emoji", "user_id"],
            [("channel_id", .integer), ("message_id", .integer), ("emoji", .text), ("user_id", .text), ("time", .integer)]
        ),
        Table("pins", key: ["channel_id", "message_id"], [("channel_id", .integer), ("message_id", .integer), ("pinned_by", .text), ("time", .integer)]),
        Table(
            "home_entries", key: ["member_id", "entry_id"],
            [
                ("member_id", .text), ("entry_id", .text), ("position", .text), ("address", .text), ("title", .text), ("secret", .text),
                ("updated_at", .integer),
            ]
        ),
    ]
}
