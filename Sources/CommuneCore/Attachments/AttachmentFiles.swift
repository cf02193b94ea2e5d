import Foundation

/// The bytes of uploaded attachments, one file each in a folder of the data directory (not in the database).
///
/// Files are named by their attachment id, which is checked to be a well-formed random token before any path is
/// built from it, so no request can reach a file outside the folder.
public struct AttachmentFiles: Sendable {
    public let directory: URL
    /// Characters in an attachment id.
    public static let idLength = 22

    public init(directory: URL) {
        self.directory = directory
    }

    /// A new attachment id.
    public static func makeID() -> String { RandomToken.make(length: Self.idLength) }

    public static func isWellFormed(_ id: String) -> Bool { RandomToken.isWellFormed(id, length: Self.idLength) }

    func url(for id: String) -> URL? {
        guard Self.isWellFormed(id) else { return nil }
        return self.directory.appendingPathComponent(id)
    }

    /// Writes the bytes durably (a temporary file renamed into place after `fsync`).
    public func write(_ bytes: [UInt8], id: String) throws {
        guard let url = self.url(for: id) else { throw CocoaError(.fileWriteInvalidFileName) }
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let temporary = self.directory.appendingPathComponent(".\(id).partial")
        try? FileManager.default.removeItem(at: temporary)
        try Data(bytes).write(to: temporary)
        let handle = try FileHandle(forUpdating: temporary)
        try handle.synchronize()
        try handle.close()
        try FileManager.default.moveItem(at: temporary, to: url)
    }

    /// The bytes, or `nil` when there is no such file.
    public func read(id: String) -> Data? {
        guard let url = self.url(for: id) else { return nil }
        return try? Data(contentsOf: url)
    }

    public func delete(id: String) {
        guard let url = self.url(for: id) else { return }
        try? FileManager.default.removeItem(at: url)
    }
}
