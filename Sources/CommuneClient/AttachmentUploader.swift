import CommuneProtocol
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Uploads and downloads attachments over the community's HTTP API with a login's `session_token`.
public enum AttachmentUploader {
    /// Uploads an image; returns what the server read from it. Server refusals throw the same ``CommuneError``s as
    /// the WebSocket protocol (`invalid_argument` for a file that is not an accepted image, `too_large`, …).
    public static func upload(_ bytes: [UInt8], baseURL: String, sessionToken: String) async throws -> AttachmentInfo {
        guard let url = URL(string: baseURL.trimmingSuffix("/") + "/api/attachments") else { throw CommuneClientError.invalidURL(baseURL) }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("Bearer \(sessionToken)", forHTTPHeaderField: "Authorization")
        request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
        let (data, response) = try await URLSession.shared.upload(for: request, from: Data(bytes))
        let json = try JSONValue.parse(String(decoding: data, as: UTF8.self))
        guard (response as? HTTPURLResponse)?.statusCode == 201 else {
            throw CommuneError(ErrorCode(rawValue: json["code"]?.stringValue ?? "internal_error"), json["message"]?.stringValue ?? "upload failed")
        }
        return try AttachmentInfo(json: json)
    }

    /// Downloads an attachment's bytes.
    public static func download(_ id: String, baseURL: String, sessionToken: String) async throws -> (type: String, bytes: [UInt8]) {
        guard let url = URL(string: baseURL.trimmingSuffix("/") + "/api/attachments/" + id) else { throw CommuneClientError.invalidURL(baseURL) }
        var request = URLRequest(url: url)
        request.setValue("Bearer \(sessionToken)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        guard http?.statusCode == 200 else {
            let json = try? JSONValue.parse(String(decoding: data, as: UTF8.self))
            throw CommuneError(ErrorCode(rawValue: json?["code"]?.stringValue ?? "internal_error"), json?["message"]?.stringValue ?? "download failed")
        }
        return (http?.value(forHTTPHeaderField: "Content-Type") ?? "", Array(data))
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        var text = self
        while text.hasSuffix(suffix) { text.removeLast(suffix.count) }
        return text
    }
}
