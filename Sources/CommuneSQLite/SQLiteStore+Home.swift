import CommuneCore
import CommuneProtocol
import GRDB

/// Homes (table `home_entries`, one row per member and entry): each change one write transaction that reads the
/// member's ids and positions, decides by ``HomeRules`` and makes its one write.
extension SQLiteStore {
    static let homeColumns = "entry_id, position, address, title, secret, updated_at"

    public func homeEntries(memberID: UUIDString) async throws -> [HomeEntry] {
        try await self.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.homeColumns) FROM home_entries WHERE member_id = ?", arguments: [memberID.value])
                .compactMap { Self.homeEntry($0, of: memberID) }
                .sorted(by: HomeEntry.listOrder)
        }
    }

    public func changeHome(memberID: UUIDString, _ change: HomeChange, limit: Int) async throws -> HomeOutcome {
        try await self.pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM members WHERE user_id = ?", arguments: [memberID.value]) != nil else {
                return .notFound
            }
            let id = change.entryID.value
            let slots = try Row.fetchAll(db, sql: "SELECT entry_id, position FROM home_entries WHERE member_id = ?", arguments: [memberID.value])
                .compactMap { row -> HomeRules.Slot? in
                    guard let id = UUIDString(row["entry_id"]), let position = HomePosition(row["position"]) else { return nil }
                    return HomeRules.Slot(id: id, position: position)
                }
            let target = try Row.fetchOne(
                db, sql: "SELECT \(Self.homeColumns) FROM home_entries WHERE member_id = ? AND entry_id = ?", arguments: [memberID.value, id]
            ).flatMap { Self.homeEntry($0, of: memberID) }
            var elsewhere = false
            if target == nil {
                elsewhere = try Bool.fetchOne(db, sql: "SELECT 1 FROM home_entries WHERE entry_id = ? AND member_id != ?", arguments: [id, memberID.value]) != nil
            }
            let decision = HomeRules.decide(change, slots: slots, target: target, elsewhere: elsewhere, limit: limit)
            switch decision.write {
            case .insert(let entry)?:
                try db.execute(
                    sql: "INSERT INTO home_entries (member_id, \(Self.homeColumns)) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    arguments: [memberID.value, entry.id.value, entry.position.description, entry.address, entry.title, entry.secret, entry.updatedAt]
                )
            case .replace(let entry)?:
                try db.execute(
                    sql: "UPDATE home_entries SET position = ?, address = ?, title = ?, secret = ?, updated_at = ? WHERE member_id = ? AND entry_id = ?",
                    arguments: [entry.position.description, entry.address, entry.title, entry.secret, entry.updatedAt, memberID.value, entry.id.value]
                )
            case .delete(let id)?:
                try db.execute(sql: "DELETE FROM home_entries WHERE member_id = ? AND entry_id = ?", arguments: [memberID.value, id.value])
            case nil:
                break
            }
            return decision.outcome
        }
    }

    private static func homeEntry(_ row: Row, of memberID: UUIDString) -> HomeEntry? {
        guard let id = UUIDString(row["entry_id"]), let position = HomePosition(row["position"]) else { return nil }
        return HomeEntry(
            memberID: memberID, id: id, position: position, address: row["address"], title: row["title"], secret: row["secret"],
            updatedAt: row["updated_at"]
        )
    }
}
