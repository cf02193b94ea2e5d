import Foundation
import Logging

extension TURNServer {
    /// Commune's own coturn for `configuration`, when voice is on, no other TURN server is configured, it is wanted
    /// (`ownTURN`), `turnserver` is installed and the machine has a media address; `nil` otherwise, saying why
    /// in the log. Its secret is kept in `<data>/voice/secrets.json` (0600).
    static func own(for configuration: VoiceConfiguration, dataDirectory: URL, logger: Logger) throws -> TURNServer? {
        guard configuration.mode != .off, configuration.turnURLs.isEmpty else { return nil }
        guard configuration.ownTURN else {
            logger.info("Voice: no TURN server (--no-own-turn): members behind strict NATs may not connect")
            return nil
        }
        guard let binary = Self.find() else {
            logger.info(
                "Voice: no TURN server: members behind strict NATs may not connect. Install coturn (apt install coturn) for Commune to run its own, or give --turn-url"
            )
            return nil
        }
        guard let (address, chosen) = configuration.resolvedMediaIP() else {
            logger.notice("Voice: not starting a TURN server: this machine has only loopback addresses; give one with --media-ip")
            return nil
        }
        guard configuration.turnRelayPorts.lowerBound > 1024, configuration.turnRelayPorts.upperBound <= 65535 else {
            throw VoiceConfigurationError(description: "the TURN relay ports must lie within 1025-65535")
        }
        let voiceFolder = dataDirectory.appendingPathComponent("voice")
        let secrets = try VoiceSecrets.load(directory: voiceFolder, ensuring: [VoiceSecrets.turnSecret])
        guard let secret = secrets[VoiceSecrets.turnSecret] else {
            throw VoiceConfigurationError(description: "\(secrets.file.path) lacks the TURN secret")
        }
        let server = TURNServer(
            binary: binary, folder: voiceFolder.appendingPathComponent("coturn"), listenAddress: address,
            publicAddress: configuration.publicIP ?? address, port: configuration.turnPort, relayPorts: configuration.turnRelayPorts, secret: secret
        )
        let ports = "\(configuration.turnRelayPorts.lowerBound)-\(configuration.turnRelayPorts.upperBound)"
        logger.info(
            "Voice: Commune's own TURN server (coturn) on \(server.publicAddress):\(server.port), relaying on UDP ports \(ports): members must reach it there",
            metadata: ["address": "\(address): \(chosen)", "config": "\(server.folder.path)"]
        )
        return server
    }

    /// `configuration` with this server as its STUN and TURN server.
    func serving(_ configuration: VoiceConfiguration) -> VoiceConfiguration {
        var configuration = configuration
        configuration.stunURLs.append(self.stunURL)
        configuration.turnURLs = self.urls
        configuration.turnSecret = self.secret
        return configuration
    }
}
