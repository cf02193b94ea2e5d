import CommuneCore
import CommuneProtocol
import PostgresNIO

/// Homes (table `home_entries`, one row per member and entry). A change locks the member's row (`FOR UPDATE`) for its
/// transaction, so two nodes changing one member's home at once take turns: the limit and the unique positions hold,
/// and a member being removed takes every entry with them.
extension PostgresStore: HomeStore {
    public func homeEntries(memberID: UUIDString) async throws -> [HomeEntry] {
        try await self.rows(
            "SELECT entry_id, position, address, title, secret, updated_at FROM home_entries WHERE member_id = \(memberID.value)"
        ) { try $0.decode((String, String, String, String, String?, Int64).self) }
            .compactMap { Self.homeEntry($0, of: memberID) }
            .sorted(by: HomeEntry.listOrder)
    }

    public func changeHome(memberID: UUIDString, _ change: HomeChange, limit: Int) async throws -> HomeOutcome {
        try await self.transaction { connection in
            let member = try await Self.rows(
                "SELECT 1 FROM members WHERE user_id = \(memberID.value) FOR UPDATE", on: connection, logger: self.logger
            ) { _ in true }
            guard !member.isEmpty else { return .notFound }
            let id = change.entryID.value
            let slots = try await Self.rows(
                "SELECT entry_id, position FROM home_entries WHERE member_id = \(memberID.value)", on: connection, logger: self.logger
            ) { try $0.decode((String, String).self) }.compactMap { id, position -> HomeRules.Slot? in
                guard let id = UUIDString(id), let position = HomePosition(position) else { return nil }
                return HomeRules.Slot(id: id, position: position)
            }
            let target = try await Self.rows(
                """
                SELECT entry_id, position, address, title, secret, updated_at FROM home_entries
                WHERE member_id = \(memberID.value) AND entry_id = \(id)
                """,
                on: connection, logger: self.logger
            ) { try $0.decode((String, String, String, String, String?, Int64).self) }.first.flatMap { Self.homeEntry($0, of: memberID) }
            var elsewhere = false
            if target == nil {
                elsewhere = try await !Self.rows(
                    "SELECT 1 FROM home_entries WHERE entry_id = \(id) AND member_id <> \(memberID.value) LIMIT 1", on: connection, logger: self.logger
                ) { _ in true }.isEmpty
            }
            let decision = HomeRules.decide(change, slots: slots, target: target, elsewhere: elsewhere, limit: limit)
            switch decision.write {
            case .insert(let entry)?:
                try await connection.query(
                    """
                    INSERT INTO home_entries (member_id, entry_id, position, address, title, secret, updated_at)
                    VALUES (\(memberID.value), \(entry.id.value), \(entry.position.description), \(entry.address), \(entry.title), \(entry.secret),
                        \(entry.updatedAt))
                    """,
                    logger: self.logger
                )
            case .replace(let entry)?:
                try await connection.query(
                    """
                    UPDATE home_entries SET position = \(entry.position.description), address = \(entry.address), title = \(entry.title),
                        secret = \(entry.secret), updated_at = \(entry.updatedAt)
                    WHERE member_id = \(memberID.value) AND entry_id = \(entry.id.value)
                    """,
                    logger: self.logger
                )
            case .delete(let id)?:
                try await connection.query(
                    "DELETE FROM home_entries WHERE member_id = \(memberID.value) AND entry_id = \(id.value)", logger: self.logger
                )
            case nil:
                break
            }
            return decision.outcome
        }
    }

    private static func homeEntry(
        _ row: (id: String, position: String, address: String, title: String, secret: String?, updatedAt: Int64), of memberID: UUIDString
    ) -> HomeEntry? {
        guard let id = UUIDString(row.id), let position = HomePosition(row.position) else { return nil }
        return HomeEntry(
            memberID: memberID, id: id, position: position, address: row.address, title: row.title, secret: row.secret, updatedAt: row.updatedAt
        )
    }
}
