import CommuneCore
import CommuneProtocol
import PostgresNIO

/// Pins: one row per pinned message. A pin holds its channel's pin lock (an advisory lock for the transaction) while
/// it checks the limit and writes, so two nodes pinning at once never pass the limit.
extension PostgresStore: PinStore {
    public func pin(_ pin: Pin, limit: Int) async throws -> PinChange {
        try await self.transaction { connection in
            try await Self.lock("pins", pin.channelID, connection: connection, logger: self.logger)
            let rows = try await Self.rows(
                "SELECT message_id, pinned_by, time FROM pins WHERE channel_id = \(pin.channelID)", on: connection, logger: self.logger
            ) { try $0.decode((Int64, String, Int64).self) }
            if let earlier = rows.first(where: { $0.0 == pin.messageID }), let by = UUIDString(earlier.1) {
                return .alreadyPinned(Pin(channelID: pin.channelID, messageID: pin.messageID, pinnedBy: by, time: earlier.2))
            }
            guard rows.count < limit else { return .full }
            try await connection.query(
                """
                INSERT INTO pins (channel_id, message_id, pinned_by, time)
                VALUES (\(pin.channelID), \(pin.messageID), \(pin.pinnedBy.value), \(pin.time))
                """,
                logger: self.logger
            )
            return .pinned
        }
    }

    public func unpin(channelID: Int64, messageID: Int64) async throws -> Bool {
        try await !self.rows(
            "DELETE FROM pins WHERE channel_id = \(channelID) AND message_id = \(messageID) RETURNING 1"
        ) { _ in true }.isEmpty
    }

    public func pins(channelID: Int64) async throws -> [Pin] {
        try await self.rows(
            "SELECT message_id, pinned_by, time FROM pins WHERE channel_id = \(channelID) ORDER BY time DESC, message_id DESC"
        ) { try $0.decode((Int64, String, Int64).self) }.compactMap { message, by, time in
            UUIDString(by).map { Pin(channelID: channelID, messageID: message, pinnedBy: $0, time: time) }
        }
    }
}
