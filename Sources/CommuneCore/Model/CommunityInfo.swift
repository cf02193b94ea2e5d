import CommuneProtocol

/// What a community says about itself (seed 003's info node): shown before and after joining.
public struct CommunityInfo: Sendable, Hashable {
    public var name: String
    public var description: String
    /// An image attachment's id, or `nil`.
    public var icon: String?
    /// Public: anyone who knows the address may register without an invite. Private: invite only.
    public var isPublic: Bool

    public init(name: String, description: String = "", icon: String? = nil, isPublic: Bool = false) {
        self.name = name
        self.description = description
        self.icon = icon
        self.isPublic = isPublic
    }

    /// Reads the info from the store's settings, with `defaultName` when none is set.
    init(settings: [String: String], defaultName: String) {
        self.name = settings[SettingKey.name] ?? defaultName
        self.description = settings[SettingKey.description] ?? ""
        self.icon = settings[SettingKey.icon].flatMap { $0.isEmpty ? nil : $0 }
        self.isPublic = settings[SettingKey.isPublic] == "true"
    }

    /// The settings that hold it.
    var settings: [String: String] {
        [
            SettingKey.name: self.name, SettingKey.description: self.description, SettingKey.icon: self.icon ?? "",
            SettingKey.isPublic: self.isPublic ? "true" : "false",
        ]
    }

    public var json: JSONValue {
        [
            "name": .string(self.name), "description": .string(self.description),
            "icon": self.icon.map { .string($0) } ?? .null, "public": .bool(self.isPublic),
        ]
    }
}
