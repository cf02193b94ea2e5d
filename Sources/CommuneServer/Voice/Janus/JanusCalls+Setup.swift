import Foundation
import Logging

extension JanusCalls {
    /// What ``make(_:dataDirectory:sockets:events:logger:)`` found.
    enum Setup {
        case ready(JanusCalls)
        /// No SFU on this machine, and what would give one.
        case unusable(String)
    }

    /// The SFU backend `configuration` describes: an operator's Janus (`janusURL`), or Commune's own `janus` child
    /// when Janus is installed and the machine has a media address. Logs what it chose and why.
    static func make(
        _ configuration: VoiceConfiguration, dataDirectory: URL, sockets: CallSockets, events: CallEvents, logger: Logger
    ) throws -> Setup {
        let limit = "at most \(configuration.maxMembersPerCall) per call"
        guard configuration.maxMembersPerCall >= 2 else { throw VoiceConfigurationError(description: "the most members per SFU call must be at least 2") }
        if let url = configuration.janusURL {
            guard url.hasPrefix("ws://") || url.hasPrefix("wss://") else {
                throw VoiceConfigurationError(description: "the Janus URL must be its WebSocket API (ws:// or wss://), not '\(url)'")
            }
            guard let adminKey = configuration.janusAdminKey, !adminKey.isEmpty else {
                throw VoiceConfigurationError(description: "an external Janus needs its VideoRoom admin_key")
            }
            logger.info("Voice: SFU calls through the Janus at \(url) (\(limit))")
            return .ready(
                JanusCalls(
                    sockets: sockets, events: events, ice: configuration.iceProvider, maxMembersPerCall: configuration.maxMembersPerCall,
                    adminKey: adminKey, launch: .external(url: url, apiSecret: configuration.janusAPISecret), logger: logger
                )
            )
        }
        guard let installation = JanusInstallation.find(path: configuration.janusPath) else {
            if let path = configuration.janusPath { return .unusable("no Janus with its VideoRoom plugin and WebSocket transport at \(path)") }
            return .unusable("install Janus (apt install janus) and restart")
        }
        guard let (mediaIP, chosen) = configuration.resolvedMediaIP() else {
            return .unusable("this machine has no address other than loopback for media (Janus gathers none on loopback); give one with --media-ip")
        }
        let voiceFolder = dataDirectory.appendingPathComponent("voice")
        let secrets = try VoiceSecrets.load(directory: voiceFolder, ensuring: [VoiceSecrets.janusAPISecret, VoiceSecrets.janusAdminKey])
        guard let apiSecret = secrets[VoiceSecrets.janusAPISecret], let adminKey = secrets[VoiceSecrets.janusAdminKey] else {
            throw VoiceConfigurationError(description: "\(secrets.file.path) lacks the Janus secrets")
        }
        let folder = JanusConfigFolder(
            folder: voiceFolder.appendingPathComponent("janus"), installation: installation, apiPort: 0, apiSecret: apiSecret, adminKey: adminKey,
            mediaIP: mediaIP, publicIP: configuration.publicIP, mediaPorts: configuration.mediaPorts
        )
        do {
            try folder.validate()
        } catch {
            throw VoiceConfigurationError(description: "\(error)")
        }
        let ports = "\(configuration.mediaPorts.lowerBound)-\(configuration.mediaPorts.upperBound)"
        let seenAt = configuration.publicIP.map { " (announced as \($0), --public-ip)" } ?? ""
        logger.info(
            "Voice: SFU calls through Janus (\(limit)); media on \(mediaIP)\(seenAt), UDP ports \(ports): browsers must reach it there",
            metadata: ["janus": "\(installation.binary.path)", "media_ip": "\(mediaIP): \(chosen)", "config": "\(folder.folder.path)"]
        )
        return .ready(
            JanusCalls(
                sockets: sockets, events: events, ice: configuration.iceProvider, maxMembersPerCall: configuration.maxMembersPerCall,
                adminKey: adminKey, launch: .child(folder), logger: logger
            )
        )
    }
}
