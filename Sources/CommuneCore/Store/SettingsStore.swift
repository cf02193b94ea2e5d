import CommuneProtocol

/// The community's settings: its key, name, description, public address, … (see ``SettingKey``).
public protocol SettingsStore: Sendable {
    /// All settings (community key, name, public URL, …).
    func settings() async throws -> [String: String]
    /// Sets a setting only if it has no value yet; returns the value it has afterwards.
    func setSettingIfAbsent(_ key: String, _ value: String) async throws -> String
    func setSetting(_ key: String, _ value: String) async throws
}

/// Keys of the settings the community keeps in its store.
public enum SettingKey {
    /// Base64 of the community's raw 32-byte X25519 private key.
    public static let privateKey = "community.private_key"
    public static let name = "community.name"
    public static let description = "community.description"
    /// An attachment id, or empty for none.
    public static let icon = "community.icon"
    /// `true` when anyone who knows the address may register without an invite (seed 003 public community).
    public static let isPublic = "community.public"
    /// The base URL invites point at, e.g. `http://127.0.0.1:1984`. Written by `commune serve`.
    public static let publicURL = "server.public_url"
}
