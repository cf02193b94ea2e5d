import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import GRDB
import Testing

@testable import CommuneSQLite

/// A full disk, forced with a tiny `max_page_count` on the server's real SQLite file: sends are refused with
/// `storage_full`, nothing is half-stored, and sends work again once there is room.
@Suite("Full disk")
struct FullDiskTests {
    let general = ChannelAddress(path: "General", name: "General")
    static let refusal = CommuneError(.storageFull, "The server's storage is full; the message was not stored. Try again later.")

    /// Caps (or, with `nil`, uncaps) the size of the server's database on its writing connection.
    func limit(_ server: TestServer, pages: Int?) async throws {
        let store = try #require(server.server.store as? SQLiteStore)
        try await store.pool.writeWithoutTransaction { db in
            let count = try #require(try Int.fetchOne(db, sql: "PRAGMA page_count"))
            try db.execute(sql: "PRAGMA max_page_count = \(pages.map { count + $0 } ?? 1_073_741_823)")
        }
    }

    func send(_ client: Client, _ text: String) async throws -> Result<Int64, CommuneError> {
        do {
            return .success(try await client.connection.sendMessage(text, to: self.general).messageID)
        } catch let error as CommuneError {
            return .failure(error)
        }
    }

    @Test("a send that does not fit gets storage_full, stores nothing, and sends succeed once there is room")
    func fullDisk() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")
        #expect(try await self.send(alice, "before") == .success(1))
        try await self.limit(server, pages: 0)

        // Fill what free space the last pages have; the first refusal comes within a bounded number of sends.
        var stored: [Int64] = [1]
        var refusal: CommuneError?
        for index in 0..<64 {
            switch try await self.send(alice, "filler \(index) " + String(repeating: "x", count: 3_000)) {
            case .success(let id): stored.append(id)
            case .failure(let error): refusal = error
            }
            if refusal != nil { break }
        }
        #expect(refusal == Self.refusal)
        for _ in 0..<3 {
            #expect(try await self.send(bob, "while full " + String(repeating: "y", count: 3_000)) == .failure(Self.refusal))
        }
        #expect(server.server.community.storageHealth.isStorageFull)
        let history = try await bob.connection.messages(in: self.general, amount: 100)
        #expect(history.map(\.messageID).sorted() == stored)
        #expect(!history.contains { $0.message.hasPrefix("while full") })

        // Room again: the next send is stored with the next id, no gap.
        try await self.limit(server, pages: nil)
        #expect(try await self.send(bob, "after") == .success(Int64(stored.count + 1)))
        #expect(!server.server.community.storageHealth.isStorageFull)
        let integrity = try await (server.server.store as! SQLiteStore).pool.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") }
        #expect(integrity == "ok")
        await server.stopAndRemove()
    }
}
