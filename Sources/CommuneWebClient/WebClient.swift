import Foundation

/// The web client's static files (HTML, CSS and JavaScript modules), served by the community server.
///
/// The client lives in its own target so that its layout mirrors the server's slices: `Web/codecs/` holds one module
/// per channel codec, `Web/features/` one per community feature, and `Web/main.js` wires them together.
public enum WebClient {
    /// The folder of the bundled files, or `nil` when the bundle was not installed beside the executable.
    public static var bundledRoot: URL? {
        Bundle.module.url(forResource: "Web", withExtension: nil)
    }
}
