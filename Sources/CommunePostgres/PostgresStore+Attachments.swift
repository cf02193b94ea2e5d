import CommuneCore
import CommuneProtocol
import PostgresNIO

/// Attachment records (their bytes are files in the data folder every node shares, ``AttachmentFiles``).
extension PostgresStore: AttachmentStore {
    public func createAttachment(_ attachment: AttachmentInfo, uploader: UUIDString, now: Int64) async throws {
        try await self.execute(
            """
            INSERT INTO attachments (id, uploader, type, width, height, size, created_at)
            VALUES (\(attachment.attachmentID), \(uploader.value), \(attachment.type), \(attachment.width), \(attachment.height), \(attachment.size), \(now))
            """
        )
    }

    public func attachment(_ id: String) async throws -> (info: AttachmentInfo, uploader: UUIDString)? {
        let found = try await self.rows("SELECT id, uploader, type, width, height, size FROM attachments WHERE id = \(id)") { row in
            try row.decode((String, String, String, Int64, Int64, Int64).self)
        }
        guard let (id, uploader, type, width, height, size) = found.first, let uploader = UUIDString(uploader) else { return nil }
        return (AttachmentInfo(attachmentID: id, type: type, width: width, height: height, size: size), uploader)
    }
}
