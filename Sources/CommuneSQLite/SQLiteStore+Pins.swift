import CommuneCore
import CommuneProtocol
import GRDB

/// Pins: one row per pinned message (migration `v10-message-pins`); the limit is checked in the pin's transaction.
extension SQLiteStore {
    public func pin(_ pin: Pin, limit: Int) async throws -> PinChange {
        try await Self.mappingFullDisk {
            try await self.pool.write { db in
                if let row = try Row.fetchOne(
                    db, sql: "SELECT pinned_by, time FROM pins WHERE channel_id = ? AND message_id = ?", arguments: [pin.channelID, pin.messageID]
                ), let by = UUIDString(row["pinned_by"] as String) {
                    return .alreadyPinned(Pin(channelID: pin.channelID, messageID: pin.messageID, pinnedBy: by, time: row["time"]))
                }
                let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM pins WHERE channel_id = ?", arguments: [pin.channelID]) ?? 0
                guard count < limit else { return .full }
                try db.execute(
                    sql: "INSERT INTO pins (channel_id, message_id, pinned_by, time) VALUES (?, ?, ?, ?)",
                    arguments: [pin.channelID, pin.messageID, pin.pinnedBy.value, pin.time]
                )
                return .pinned
            }
        }
    }

    public func unpin(channelID: Int64, messageID: Int64) async throws -> Bool {
        try await self.pool.write { db in
            try db.execute(sql: "DELETE FROM pins WHERE channel_id = ? AND message_id = ?", arguments: [channelID, messageID])
            return db.changesCount > 0
        }
    }

    public func pins(channelID: Int64) async throws -> [Pin] {
        try await self.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT message_id, pinned_by, time FROM pins WHERE channel_id = ? ORDER BY time DESC, message_id DESC", arguments: [channelID]
            ).compactMap { row in
                UUIDString(row["pinned_by"] as String).map { Pin(channelID: channelID, messageID: row["message_id"], pinnedBy: $0, time: row["time"]) }
            }
        }
    }
}
