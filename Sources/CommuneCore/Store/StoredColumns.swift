import CommuneProtocol

/// The text encodings of the list and JSON columns both database stores keep (SQLite's, and PostgreSQL's v1 schema
/// which mirrors it so that `commune migrate-store` copies rows as they are): one place, so the stores agree.
///
/// `properties` and `attachments` are JSON (`""` for none), `mentions` and `permissions` comma-separated. Reading is
/// lenient: what cannot be read is left out rather than failing the whole row.
public enum StoredColumns {
    /// A node's codec properties as a JSON object of strings; `""` when there are none.
    public static func encode(properties: [String: String]) -> String {
        properties.isEmpty ? "" : JSONValue.object(properties.mapValues { .string($0) }).jsonString
    }

    public static func decodeProperties(_ text: String) -> [String: String] {
        guard !text.isEmpty, let object = (try? JSONValue.parse(text))?.objectValue else { return [:] }
        return object.compactMapValues { $0.stringValue }
    }

    /// A message's attachments as a JSON array of their wire objects; `""` when there are none.
    public static func encode(attachments: [AttachmentInfo]) -> String {
        attachments.isEmpty ? "" : JSONValue.array(attachments.map(\.json)).jsonString
    }

    public static func decodeAttachments(_ text: String) -> [AttachmentInfo] {
        guard !text.isEmpty, let list = (try? JSONValue.parse(text))?.arrayValue else { return [] }
        return list.compactMap { try? AttachmentInfo(json: $0) }
    }

    /// The ids a message mentions, comma-separated.
    public static func encode(mentions: [UUIDString]) -> String {
        mentions.map(\.value).joined(separator: ",")
    }

    public static func decodeMentions(_ text: String) -> [UUIDString] {
        text.split(separator: ",").compactMap { UUIDString(String($0)) }
    }

    /// A group's permissions, sorted and comma-separated.
    public static func encode(permissions: Set<Permission>) -> String {
        permissions.map(\.rawValue).sorted().joined(separator: ",")
    }

    public static func decodePermissions(_ text: String) -> Set<Permission> {
        Set(text.split(separator: ",").map { Permission(rawValue: String($0)) })
    }
}
