import CommuneCore
import CommuneProtocol
import Foundation
import GRDB

/// Attachment records.
extension SQLiteStore {
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
}
