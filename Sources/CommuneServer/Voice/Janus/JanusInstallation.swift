import Foundation

/// Where Janus is installed: its binary and the folder of its plugins, transports, event handlers and loggers
/// (Debian: `/usr/bin/janus`, `/usr/lib/x86_64-linux-gnu/janus/`).
struct JanusInstallation: Sendable, Hashable {
    var binary: URL
    var libraryFolder: URL

    var pluginsFolder: URL { self.libraryFolder.appendingPathComponent("plugins") }
    var transportsFolder: URL { self.libraryFolder.appendingPathComponent("transports") }
    var eventsFolder: URL { self.libraryFolder.appendingPathComponent("events") }
    var loggersFolder: URL { self.libraryFolder.appendingPathComponent("loggers") }

    /// The plugin and transport Commune uses; an installation without them is not usable.
    static let videoRoomLibrary = "libjanus_videoroom.so"
    static let webSocketsLibrary = "libjanus_websockets.so"

    /// Janus at `path`, or `janus` on `PATH` when `path` is `nil`; `nil` when not installed (with its VideoRoom
    /// plugin and WebSocket transport).
    static func find(path: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> JanusInstallation? {
        let fileManager = FileManager.default
        let candidates: [String]
        if let path {
            candidates = [path]
        } else {
            candidates = (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map { "\($0)/janus" }
        }
        guard let binary = candidates.first(where: { fileManager.isExecutableFile(atPath: $0) }) else { return nil }
        let binaryURL = URL(fileURLWithPath: binary).resolvingSymlinksInPath()
        let prefix = binaryURL.deletingLastPathComponent().deletingLastPathComponent()
        var folders = [prefix.appendingPathComponent("lib/janus"), prefix.appendingPathComponent("lib64/janus")]
        let lib = prefix.appendingPathComponent("lib")
        for entry in (try? fileManager.contentsOfDirectory(atPath: lib.path)) ?? [] {
            folders.append(lib.appendingPathComponent(entry).appendingPathComponent("janus"))
        }
        for folder in folders {
            let installation = JanusInstallation(binary: binaryURL, libraryFolder: folder)
            if fileManager.fileExists(atPath: installation.pluginsFolder.appendingPathComponent(Self.videoRoomLibrary).path),
                fileManager.fileExists(atPath: installation.transportsFolder.appendingPathComponent(Self.webSocketsLibrary).path)
            {
                return installation
            }
        }
        return nil
    }

    /// The loadable modules (`libjanus_*.so`) in `folder` other than `keep`: what the configuration disables.
    static func modules(in folder: URL, except keep: String?) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasPrefix("libjanus_") && $0.hasSuffix(".so") && $0 != keep }.sorted()
    }
}
