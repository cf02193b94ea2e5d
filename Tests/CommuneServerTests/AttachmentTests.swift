import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("Image attachments over HTTP, for members only")
struct AttachmentTests {
    let general = ChannelAddress(path: "General", name: "General")

    /// A real 24×16 PNG (headless Chromium's canvas encoder; two IDAT chunks).
    static let png: [UInt8] = {
        let hex = Array((
            "89504e470d0a1a0a0000000d49484452000000180000001008060000000c24bf95000000a5494441547801ecd4a912c2301485e1" +
            "43d8d7cbdaa0d068341a8d46a3d168341a8d46a3d168349ad7a07f4554a7ae7511df5c91c99c4c26394ed2bf8739565863832d76" +
            "d8e380234e38e3822b6eb8e381275e78e3832f7e703222ac261959566736d0440b6dc93ae88263589f39c01023b0d9c6cc09a698" +
            "81a3da8299c0cbc500c52b8aaf28fe03eaa0a82a3c6bcb2aaa22f45042802f3b202bba4c08292d203469be4d53000000ffff8c79" +
            "eca60000000649444154030050ad481c806e33bd0000000049454e44ae426082"
        ).utf8)
        return stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0...$0 + 1], as: UTF8.self), radix: 16)! }
    }()

    /// A PNG of a signature and an IHDR claiming `width`×`height`, then `chunks` (type and length, filled with 0x55),
    /// each with its right CRC.
    static func png(width: UInt32, height: UInt32, chunks: [(String, Int)] = []) -> [UInt8] {
        func bigEndian(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            bigEndian(UInt32(data.count)) + Array(type.utf8) + data + bigEndian(ImageInspector.crc32(Array(type.utf8) + data))
        }
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", bigEndian(width) + bigEndian(height) + [8, 6, 0, 0, 0])
        for (type, length) in chunks { bytes += chunk(type, Array(repeating: 0x55, count: length)) }
        return bytes
    }

    @Test("an uploaded image travels with a message and downloads for members")
    func roundTrip() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")
        let info = try await AttachmentUploader.upload(Self.png, baseURL: server.baseURL, sessionToken: alice.welcome.sessionToken)
        #expect(info.type == "image/png" && info.width == 24 && info.height == 16 && info.size == Int64(Self.png.count))
        try await alice.connection.sendMessage("", to: self.general, kind: .text, attachments: [info.attachmentID])
        let live = try await bob.events.nextUpdate("message_live")
        let carried = try ChatMessage(json: live.payload).attachments
        #expect(carried == [info])
        let (type, bytes) = try await AttachmentUploader.download(info.attachmentID, baseURL: server.baseURL, sessionToken: bob.welcome.sessionToken)
        #expect(type == "image/png" && bytes == Self.png)
        // Without a token, or with a made-up one: not_authenticated.
        await expectError(.notAuthenticated) {
            _ = try await AttachmentUploader.download(info.attachmentID, baseURL: server.baseURL, sessionToken: "made-up")
        }
        let (plain, _) = try await URLSession.shared.data(from: URL(string: server.baseURL + "/api/attachments/" + info.attachmentID)!)
        #expect(String(decoding: plain, as: UTF8.self).contains("not_authenticated"))
        await expectError(.notFound) {
            _ = try await AttachmentUploader.download("..%2F..%2Fcommune.sqlite", baseURL: server.baseURL, sessionToken: bob.welcome.sessionToken)
        }
        await server.stopAndRemove()
    }

    @Test("files that are not accepted images, too large, or someone else's are refused and nothing is stored")
    func refusals() async throws {
        let server = try await TestServer.start { $0.community.maxAttachmentBytes = 1_000 }
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")
        await expectError(.invalidArgument) {
            _ = try await AttachmentUploader.upload(Array("just text, named cat.png".utf8), baseURL: server.baseURL, sessionToken: alice.welcome.sessionToken)
        }
        await expectError(.tooLarge) {
            _ = try await AttachmentUploader.upload(Self.png + Array(repeating: 0, count: 2_000), baseURL: server.baseURL, sessionToken: alice.welcome.sessionToken)
        }
        let folder = server.directory.appendingPathComponent("attachments")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).isEmpty)
        let info = try await AttachmentUploader.upload(Self.png, baseURL: server.baseURL, sessionToken: alice.welcome.sessionToken)
        await expectError(.notFound) {
            try await bob.connection.sendMessage("look", to: self.general, kind: .text, attachments: [info.attachmentID])
        }
        await expectError(.invalidArgument) {
            try await alice.connection.sendMessage("many", to: self.general, kind: .text, attachments: Array(repeating: info.attachmentID, count: 5))
        }
        #expect(try await bob.connection.messages(in: self.general).isEmpty)
        await server.stopAndRemove()
    }

    @Test("header-only, cut-short and too-large images get 400 invalid_argument with the exact reason, and nothing is stored")
    func damagedImages() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let cases: [([UInt8], String)] = [
            (
                Self.png(width: 16_384, height: 16_384),
                "The image is 16384×16384 pixels; images may have at most 8192 pixels on each side and 50,000,000 pixels in all."
            ),
            (Self.png(width: 4_000, height: 3_000), "The PNG image is incomplete or damaged (no IDAT chunk)."),
            (Array(Self.png.dropLast(12)), "The PNG image is incomplete or damaged (no IEND chunk)."),
            (Self.png + Array("PK\u{3}\u{4}zip".utf8), "The PNG image is incomplete or damaged (7 bytes after the IEND chunk)."),
            (Self.png.enumerated().map { $0.offset == 60 ? $0.element ^ 0x10 : $0.element }, "The PNG image is incomplete or damaged (the IDAT chunk's CRC is wrong)."),
            (
                Self.png(width: 4_000, height: 3_000, chunks: [("IDAT", 500), ("IEND", 0)]),
                "The PNG image claims 4000×3000 pixels but holds only 500 bytes of image data; it cannot be a whole image of that size."
            ),
            ([0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8, 0, 0x40, 0, 0x40, 3] + Array(repeating: 0, count: 9), "The JPEG image is incomplete or damaged (no EOI marker)."),
        ]
        for (bytes, message) in cases {
            var request = URLRequest(url: URL(string: server.baseURL + "/api/attachments")!)
            request.httpMethod = "POST"
            request.setValue("Bearer \(alice.welcome.sessionToken)", forHTTPHeaderField: "Authorization")
            let (data, response) = try await URLSession.shared.upload(for: request, from: Data(bytes))
            #expect((response as? HTTPURLResponse)?.statusCode == 400)
            let body = try JSONValue.parse(String(decoding: data, as: UTF8.self))
            #expect(body == ["code": "invalid_argument", "message": .string(message)])
        }
        // The record is written only after the file: no file, no record.
        let folder = server.directory.appendingPathComponent("attachments")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).isEmpty)
        await server.stopAndRemove()
    }

    @Test("removing a member with vengeance deletes their uploads")
    func vengeanceDeletesUploads() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner()
        let alice = try await server.member("alice")
        let info = try await AttachmentUploader.upload(Self.png, baseURL: server.baseURL, sessionToken: alice.welcome.sessionToken)
        try await owner.connection.remove(alice.identity.userID, vengeance: true)
        await expectError(.notFound) {
            _ = try await AttachmentUploader.download(info.attachmentID, baseURL: server.baseURL, sessionToken: owner.welcome.sessionToken)
        }
        let folder = server.directory.appendingPathComponent("attachments")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).isEmpty)
        await server.stopAndRemove()
    }
}
