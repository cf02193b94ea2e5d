/// An uploaded image as messages carry it: enough to lay it out before its bytes arrive.
public struct AttachmentInfo: Sendable, Hashable {
    /// The id to fetch it with: `GET /api/attachments/<id>`.
    public var attachmentID: String
    /// `image/png`, `image/jpeg`, `image/gif` or `image/webp`, as read from the bytes.
    public var type: String
    public var width: Int64
    public var height: Int64
    /// Bytes.
    public var size: Int64

    public init(attachmentID: String, type: String, width: Int64, height: Int64, size: Int64) {
        self.attachmentID = attachmentID
        self.type = type
        self.width = width
        self.height = height
        self.size = size
    }

    public init(json: JSONValue) throws(CommuneError) {
        let reader = try PayloadReader(json, context: "attachment")
        self.attachmentID = try reader.string("attachment_id")
        self.type = try reader.string("type")
        self.width = try reader.int("width")
        self.height = try reader.int("height")
        self.size = try reader.int("size")
    }

    public var json: JSONValue {
        [
            "attachment_id": .string(self.attachmentID), "type": .string(self.type), "width": .int(self.width),
            "height": .int(self.height), "size": .int(self.size),
        ]
    }
}
