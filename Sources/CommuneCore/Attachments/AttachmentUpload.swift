import CommuneProtocol
import Logging

/// Taking an upload: the checks and the two writes (the file, then its record), for the HTTP route to call.
extension Community {
    /// Stores `bytes` as `uploader`'s new attachment after checking that they are a whole accepted image
    /// (``ImageInspector/check(_:)``) within the size limit. The file is written before its record, so a record
    /// never points at a missing file.
    public func upload(_ bytes: [UInt8], by uploader: Member) async throws(CommuneError) -> AttachmentInfo {
        guard let files = self.attachments else { throw .internalError("This server keeps no attachments.") }
        let limit = self.configuration.maxAttachmentBytes
        guard bytes.count <= limit else { throw .init(.tooLarge, "The file has \(bytes.count) bytes; the limit is \(limit).") }
        let image: ImageInspector.Image
        switch ImageInspector.check(bytes) {
        case .success(let found): image = found
        case .failure(let refusal): throw .invalidArgument(refusal.message)
        }
        let info = AttachmentInfo(
            attachmentID: AttachmentFiles.makeID(), type: image.type, width: Int64(image.width), height: Int64(image.height),
            size: Int64(bytes.count)
        )
        do {
            try files.write(bytes, id: info.attachmentID)
            try await self.store.createAttachment(info, uploader: uploader.id, now: UnixTime.nowMilliseconds())
        } catch {
            files.delete(id: info.attachmentID)
            self.logger.error("Storing an attachment failed: \(error)")
            throw .internalError("The attachment could not be stored.")
        }
        return info
    }

    /// An attachment's type and bytes for a member to download, or `nil` when there is none.
    public func download(_ id: String) async -> (type: String, bytes: [UInt8])? {
        guard AttachmentFiles.isWellFormed(id), let files = self.attachments else { return nil }
        guard let record = try? await self.store.attachment(id), let data = files.read(id: id) else { return nil }
        return (record.info.type, Array(data))
    }
}
