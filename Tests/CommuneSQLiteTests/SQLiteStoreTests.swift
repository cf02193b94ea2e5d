import CommuneCore
import CommuneProtocol
import Foundation
import Testing

@testable import CommuneSQLite

/// A fresh data folder under the system's temporary directory, removed when the test ends.
struct TemporaryDirectory: ~Copyable {
    let url: URL

    init() throws {
        self.url = FileManager.default.temporaryDirectory.appendingPathComponent("commune-test-\(UUIDString.random().value)")
        try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: self.url)
    }
}

@Suite("SQLite store")
struct SQLiteStoreTests {
    func member(_ name: String, key: UInt8) -> Member {
        Member(id: .random(), username: name, publicKey: [UInt8](repeating: key, count: 32), group: "x", joinedAt: 1)
    }

    @Test("registering consumes one use and takes the invite's group")
    func register() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(directory: directory.url)
        try await store.createInvite(Invite(code: "abc", group: "moderator", usesLeft: 2, expiresAt: nil, createdAt: 0))
        let stored = try await store.registerMember(self.member("alice", key: 1), inviteCode: "abc", now: 10)
        #expect(stored.group == "moderator")
        #expect(try await store.invites().first?.usesLeft == 1)
    }

    @Test("refused registrations change nothing")
    func refusals() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(directory: directory.url)
        try await store.createInvite(Invite(code: "one", group: "member", usesLeft: 1, expiresAt: nil, createdAt: 0))
        try await store.createInvite(Invite(code: "old", group: "member", usesLeft: 5, expiresAt: 100, createdAt: 0))
        let alice = self.member("alice", key: 1)
        _ = try await store.registerMember(alice, inviteCode: "one", now: 10)

        await #expect(throws: StoreError.inviteInvalid("This invite has been used up.")) {
            try await store.registerMember(self.member("bob", key: 2), inviteCode: "one", now: 10)
        }
        await #expect(throws: StoreError.inviteInvalid("This invite has expired.")) {
            try await store.registerMember(self.member("bob", key: 2), inviteCode: "old", now: 100)
        }
        await #expect(throws: StoreError.inviteInvalid("This invite is not known here.")) {
            try await store.registerMember(self.member("bob", key: 2), inviteCode: "nope", now: 10)
        }
        try await store.createInvite(Invite(code: "more", group: "member", usesLeft: 3, expiresAt: nil, createdAt: 0))
        var sameKey = self.member("mallory", key: 1)
        await #expect(throws: StoreError.self) { try await store.registerMember(sameKey, inviteCode: "more", now: 10) }
        sameKey = Member(id: alice.id, username: "mallory", publicKey: [UInt8](repeating: 9, count: 32), group: "x", joinedAt: 1)
        await #expect(throws: StoreError.self) { try await store.registerMember(sameKey, inviteCode: "more", now: 10) }

        #expect(try await store.members().map(\.username) == ["alice"])
        let uses = Dictionary(uniqueKeysWithValues: try await store.invites().map { ($0.code, $0.usesLeft) })
        #expect(uses == ["one": 0, "old": 5, "more": 3])
    }

    @Test("concurrent sends get dense, unique ids per channel")
    func groupCommit() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(directory: directory.url)
        let sender = UUIDString.random()
        let ids = try await withThrowingTaskGroup(of: (Int64, Int64).self) { group in
            for index in 0..<200 {
                group.addTask {
                    let channel: Int64 = index % 2 == 0 ? 1 : 2
                    let stored = try await store.appendMessage(
                        NewMessage(channelID: channel, senderID: sender, text: "m\(index)", sendTime: Int64(index))
                    )
                    return (channel, stored.message.messageID)
                }
            }
            var ids: [Int64: [Int64]] = [:]
            for try await (channel, id) in group { ids[channel, default: []].append(id) }
            return ids
        }
        #expect(ids[1]?.sorted() == Array(1...100))
        #expect(ids[2]?.sorted() == Array(1...100))
    }

    @Test("history pages newest first, skipping the loaded ones, and honours before")
    func paging() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(directory: directory.url)
        let sender = UUIDString.random()
        for index in 1...30 {
            _ = try await store.appendMessage(NewMessage(channelID: 7, senderID: sender, text: "m\(index)", sendTime: Int64(index)))
        }
        #expect(try await store.messages(channelID: 7, before: nil, skip: 0, limit: 5).map(\.messageID) == [30, 29, 28, 27, 26])
        #expect(try await store.messages(channelID: 7, before: nil, skip: 5, limit: 5).map(\.messageID) == [25, 24, 23, 22, 21])
        #expect(try await store.messages(channelID: 7, before: nil, skip: 28, limit: 5).map(\.messageID) == [2, 1])
        #expect(try await store.messages(channelID: 7, before: nil, skip: 30, limit: 5).isEmpty)
        #expect(try await store.messages(channelID: 7, before: 10, skip: 0, limit: 3).map(\.messageID) == [9, 8, 7])
        #expect(try await store.messages(channelID: 7, before: 10, skip: 2, limit: 3).map(\.messageID) == [7, 6, 5])
        #expect(try await store.messages(channelID: 8, before: nil, skip: 0, limit: 5).isEmpty)
        let first = try #require(try await store.messages(channelID: 7, before: 2, skip: 0, limit: 1).first)
        #expect(first.text == "m1" && first.senderID == sender && first.sendTime == 1)
    }

    @Test("everything survives closing and reopening the file")
    func persistence() async throws {
        let directory = try TemporaryDirectory()
        do {
            let store = try SQLiteStore(directory: directory.url)
            try await store.setSetting("k", "v")
            _ = try await store.appendMessage(NewMessage(channelID: 1, senderID: .random(), text: "kept", sendTime: 5))
        }
        #expect(SQLiteStore.exists(in: directory.url))
        let reopened = try SQLiteStore(directory: directory.url)
        #expect(try await reopened.settings()["k"] == "v")
        #expect(try await reopened.messages(channelID: 1, before: nil, skip: 0, limit: 10).map(\.text) == ["kept"])
        #expect(try await reopened.setSettingIfAbsent("k", "other") == "v")
    }
}
