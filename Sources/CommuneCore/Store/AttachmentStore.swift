import CommuneProtocol

/// The records of uploaded attachments (their bytes are kept by an ``AttachmentFiles``).
public protocol AttachmentStore: Sendable {
    /// Records an uploaded attachment (its bytes are kept by an ``AttachmentFiles``).
    func createAttachment(_ attachment: AttachmentInfo, uploader: UUIDString, now: Int64) async throws
    /// An attachment and who uploaded it, if it exists.
    func attachment(_ id: String) async throws -> (info: AttachmentInfo, uploader: UUIDString)?
}
