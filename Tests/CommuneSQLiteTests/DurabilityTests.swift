import CommuneCore
import CommuneProtocol
import Foundation
import Testing

@testable import CommuneSQLite

@Suite("Durability: SQLite's synchronous setting")
struct DurabilityTests {
    @Test("normal is synchronous = NORMAL (1) and the default; full is FULL (2), on every connection, and survives a reopen")
    func synchronous() async throws {
        for (durability, expected) in [(Durability.normal, 1), (.full, 2)] {
            let directory = try TemporaryDirectory()
            let store = try SQLiteStore(directory: directory.url, durability: durability)
            let settings = try await store.synchronousSettings()
            #expect(settings.read == expected && settings.write == expected)
            let channel = try await store.createInteractables([NewInteractable(parentID: nil, name: "T", codec: "text", position: 0)])[0]
            let member = Member(id: .random(), username: "alice", publicKey: [1], group: "member", joinedAt: 1)
            _ = try await store.registerMember(member, inviteCode: nil, now: 1)
            let appended = try await store.appendMessage(
                NewMessage(channelID: channel.id, senderID: member.id, text: "kept", sendTime: 1, kind: .text, attachments: [], senderNumber: nil)
            )
            #expect(appended.message.messageID == 1)
            let reopened = try SQLiteStore(directory: directory.url, durability: durability)
            #expect(try await reopened.messages(channelID: channel.id, before: nil, skip: 0, limit: 10).map(\.text) == ["kept"])
        }
        let directory = try TemporaryDirectory()
        #expect(try SQLiteStore(directory: directory.url).durability == .normal)
    }
}
