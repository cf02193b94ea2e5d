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

    /// A real 3×2 PNG header (signature, IHDR) followed by filler; the server reads only the header.
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
        + [0, 0, 0, 3, 0, 0, 0, 2, 8, 6, 0, 0, 0] + Array(repeating: 7, count: 40)

    func expectError(_ code: ErrorCode, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected \(code)")
        } catch let error as CommuneError {
            #expect(error.code == code, "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("an uploaded image travels with a message and downloads for members")
    func roundTrip() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")
        let info = try await AttachmentUploader.upload(Self.png, baseURL: server.baseURL, sessionToken: alice.welcome.sessionToken)
        #expect(info.type == "image/png" && info.width == 3 && info.height == 2 && info.size == Int64(Self.png.count))
        try await alice.connection.sendMessage("", to: self.general, kind: .text, attachments: [info.attachmentID])
        let live = try await bob.events.nextUpdate("message_live")
        let carried = try ChatMessage(json: live.payload).attachments
        #expect(carried == [info])
        let (type, bytes) = try await AttachmentUploader.download(info.attachmentID, baseURL: server.baseURL, sessionToken: bob.welcome.sessionToken)
        #expect(type == "image/png" && bytes == Self.png)
        // Without a token, or with a made-up one: not_authenticated.
        await self.expectError(.notAuthenticated) {
            _ = try await AttachmentUploader.download(info.attachmentID, baseURL: server.baseURL, sessionToken: "made-up")
        }
        let (plain, _) = try await URLSession.shared.data(from: URL(string: server.baseURL + "/api/attachments/" + info.attachmentID)!)
        #expect(String(decoding: plain, as: UTF8.self).contains("not_authenticated"))
        await self.expectError(.notFound) {
            _ = try await AttachmentUploader.download("..%2F..%2Fcommune.sqlite", baseURL: server.baseURL, sessionToken: bob.welcome.sessionToken)
        }
        await server.stopAndRemove()
    }

    @Test("files that are not accepted images, too large, or someone else's are refused and nothing is stored")
    func refusals() async throws {
        let server = try await TestServer.start { $0.community.maxAttachmentBytes = 1_000 }
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")
        await self.expectError(.invalidArgument) {
            _ = try await AttachmentUploader.upload(Array("just text, named cat.png".utf8), baseURL: server.baseURL, sessionToken: alice.welcome.sessionToken)
        }
        await self.expectError(.tooLarge) {
            _ = try await AttachmentUploader.upload(Self.png + Array(repeating: 0, count: 2_000), baseURL: server.baseURL, sessionToken: alice.welcome.sessionToken)
        }
        let folder = server.directory.appendingPathComponent("attachments")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).isEmpty)
        let info = try await AttachmentUploader.upload(Self.png, baseURL: server.baseURL, sessionToken: alice.welcome.sessionToken)
        await self.expectError(.notFound) {
            try await bob.connection.sendMessage("look", to: self.general, kind: .text, attachments: [info.attachmentID])
        }
        await self.expectError(.invalidArgument) {
            try await alice.connection.sendMessage("many", to: self.general, kind: .text, attachments: Array(repeating: info.attachmentID, count: 5))
        }
        #expect(try await bob.connection.messages(in: self.general).isEmpty)
        await server.stopAndRemove()
    }

    @Test("removing a member with vengeance deletes their uploads")
    func vengeanceDeletesUploads() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner()
        let alice = try await server.member("alice")
        let info = try await AttachmentUploader.upload(Self.png, baseURL: server.baseURL, sessionToken: alice.welcome.sessionToken)
        try await owner.connection.remove(alice.identity.userID, vengeance: true)
        await self.expectError(.notFound) {
            _ = try await AttachmentUploader.download(info.attachmentID, baseURL: server.baseURL, sessionToken: owner.welcome.sessionToken)
        }
        let folder = server.directory.appendingPathComponent("attachments")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).isEmpty)
        await server.stopAndRemove()
    }
}
