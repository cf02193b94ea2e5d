import CommuneCore
import CommuneProtocol
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The voice servers' secrets, generated on first use and kept in `<data>/voice/secrets.json` (mode 0600, in a
/// 0700 folder): the same across restarts, readable only by the server's user. Keys another part of the server
/// stored there are kept as they are.
struct VoiceSecrets: Sendable {
    static let janusAPISecret = "janus_api_secret"
    static let janusAdminKey = "janus_admin_key"
    static let turnSecret = "turn_secret"

    let file: URL
    private let values: [String: String]

    /// Reads the file, adding any of `keys` it lacks (random, 43 characters) and writing it back if it did.
    static func load(directory: URL, ensuring keys: [String]) throws -> VoiceSecrets {
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try fileManager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
        let file = directory.appendingPathComponent("secrets.json")
        var stored: [String: JSONValue] = [:]
        if fileManager.fileExists(atPath: file.path) {
            let text = try String(contentsOf: file, encoding: .utf8)
            guard let object = try JSONValue.parse(text).objectValue else {
                throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: file.path])
            }
            stored = object
        }
        var changed = false
        for key in keys where stored[key]?.stringValue?.isEmpty ?? true {
            stored[key] = .string(RandomToken.make(length: 43))
            changed = true
        }
        if changed {
            let temporary = directory.appendingPathComponent("secrets.json.new")
            try? fileManager.removeItem(at: temporary)
            guard fileManager.createFile(atPath: temporary.path, contents: Data(JSONValue.object(stored).jsonString.utf8), attributes: [.posixPermissions: 0o600])
            else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary.path]) }
            guard rename(temporary.path, file.path) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path]) }
        }
        try fileManager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        return VoiceSecrets(file: file, values: stored.compactMapValues(\.stringValue))
    }

    subscript(key: String) -> String? { self.values[key] }
}
