import Foundation

/// The configuration folder of the Janus that Commune starts (`<data>/voice/janus/`), written afresh before each
/// start; never Debian's `/etc/janus`, which exposes the API on every interface without a secret.
///
/// Only the VideoRoom plugin and the WebSocket transport (on 127.0.0.1) are enabled; every request needs the
/// `api_secret`, room creation the plugin's `admin_key`. Media uses only ``mediaIP`` (`ice_enforce_list`), the
/// ports in ``mediaPorts``, and no outside STUN server.
struct JanusConfigFolder: Sendable {
    var folder: URL
    var installation: JanusInstallation
    var apiPort: Int
    var apiSecret: String
    var adminKey: String
    var mediaIP: String
    var publicIP: String?
    var mediaPorts: ClosedRange<Int>

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    var configFile: URL { self.folder.appendingPathComponent("janus.jcfg") }
    var apiURL: String { "ws://127.0.0.1:\(self.apiPort)/" }

    /// Throws ``Invalid`` for an address or port range Janus cannot use.
    func validate() throws {
        guard MediaAddress.isIPAddress(self.mediaIP) else { throw Invalid(description: "the media address '\(self.mediaIP)' is not an IP address") }
        if let publicIP = self.publicIP, !MediaAddress.isIPAddress(publicIP) {
            throw Invalid(description: "the public address '\(publicIP)' is not an IP address")
        }
        guard self.mediaPorts.lowerBound >= 1024, self.mediaPorts.upperBound <= 65535, self.mediaPorts.count >= 2 else {
            throw Invalid(description: "the media ports \(self.mediaPorts.lowerBound)-\(self.mediaPorts.upperBound) must lie within 1024-65535")
        }
    }

    func write() throws {
        try self.validate()
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: self.folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try fileManager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: self.folder.path)
        for (name, text) in [
            ("janus.jcfg", self.core), ("janus.transport.websockets.jcfg", self.webSockets), ("janus.plugin.videoroom.jcfg", self.videoRoom),
        ] {
            let file = self.folder.appendingPathComponent(name)
            try? fileManager.removeItem(at: file)
            guard fileManager.createFile(atPath: file.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path])
            }
        }
    }

    private static func quoted(_ text: String) -> String { "\"\(text)\"" }

    private static func disabled(_ names: [String]) -> String { Self.quoted(names.joined(separator: ",")) }

    var core: String {
        var nat = ["\tnice_debug = false", "\tice_enforce_list = \(Self.quoted(self.mediaIP))", "\tignore_mdns = true", "\tfull_trickle = false"]
        if let publicIP = self.publicIP { nat.append("\tnat_1_1_mapping = \(Self.quoted(publicIP))") }
        let installation = self.installation
        return """
            # Written by Commune at each start; edits are overwritten.
            general: {
            \tconfigs_folder = \(Self.quoted(self.folder.path))
            \tplugins_folder = \(Self.quoted(installation.pluginsFolder.path))
            \ttransports_folder = \(Self.quoted(installation.transportsFolder.path))
            \tevents_folder = \(Self.quoted(installation.eventsFolder.path))
            \tloggers_folder = \(Self.quoted(installation.loggersFolder.path))
            \tdebug_level = 3
            \tserver_name = "Commune"
            \tsession_timeout = 60
            \tapi_secret = \(Self.quoted(self.apiSecret))
            }
            media: {
            \trtp_port_range = "\(self.mediaPorts.lowerBound)-\(self.mediaPorts.upperBound)"
            }
            nat: {
            \(nat.joined(separator: "\n"))
            }
            plugins: {
            \tdisable = \(Self.disabled(JanusInstallation.modules(in: installation.pluginsFolder, except: JanusInstallation.videoRoomLibrary)))
            }
            transports: {
            \tdisable = \(Self.disabled(JanusInstallation.modules(in: installation.transportsFolder, except: JanusInstallation.webSocketsLibrary)))
            }
            loggers: {
            \tdisable = \(Self.disabled(JanusInstallation.modules(in: installation.loggersFolder, except: nil)))
            }
            events: {
            \tbroadcast = false
            \tdisable = \(Self.disabled(JanusInstallation.modules(in: installation.eventsFolder, except: nil)))
            }

            """
    }

    var webSockets: String {
        """
        general: {
        \tevents = false
        \tjson = "compact"
        \tws = true
        \tws_port = \(self.apiPort)
        \tws_ip = "127.0.0.1"
        \twss = false
        \tws_logging = "err"
        }
        admin: {
        \tadmin_ws = false
        \tadmin_wss = false
        }

        """
    }

    var videoRoom: String {
        """
        general: {
        \tadmin_key = \(Self.quoted(self.adminKey))
        \tlock_rtp_forward = true
        \tstring_ids = true
        \tevents = false
        }

        """
    }
}
