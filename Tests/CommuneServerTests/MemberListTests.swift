import CommuneClient
import CommuneCore
import CommuneProtocol
import CommuneServer
import Testing

/// The member list in pages (issue 16): a connection hears presence, joins and changes for the members its page
/// shows (and itself), and only the counts for the rest. Pages of 2 (at most 4) here, so that six members fill
/// three pages.
@Suite("Member list: pages, what each page hears, counts")
struct MemberListTests {
    let general = ChannelAddress(path: "General", name: "General")

    static func start() async throws -> TestServer {
        try await TestServer.start { configuration in
            configuration.community.defaultMemberPage = 2
            configuration.community.maxMemberPage = 4
        }
    }

    /// m1 … m6, logged in, in list order.
    static func members(_ server: TestServer) async throws -> [Client] {
        var clients: [Client] = []
        for index in 1...6 { clients.append(try await server.member("m\(index)")) }
        return clients
    }

    /// What `observer` hears until `marker` (a message in General) arrives: the users named by `presence`,
    /// `member_joined` and `member_changed` updates, and the last `member_counts`. Reads on past the marker (bounded)
    /// until counts matching `counts` came, when given.
    func heard(by observer: Client, until marker: String, counts: (total: Int64, online: Int64)? = nil) async throws
        -> (news: [String], counts: (total: Int64, online: Int64)?)
    {
        var news: [String] = []
        var lastCounts: (total: Int64, online: Int64)?
        var sawMarker = false
        for _ in 0..<200 {
            if sawMarker, counts.map({ want in lastCounts.map { $0 == want } ?? false }) ?? true { break }
            let envelope = try #require(try await observer.events.next())
            guard envelope.type == .update else { continue }
            let update = try FunctionResult(data: envelope.data)
            switch update.result {
            case "message_live" where update.payload["message"]?.stringValue == marker: sawMarker = true
            case "presence", "member_joined", "member_changed":
                news.append("\(update.result) \(update.payload["username"]?.stringValue ?? update.payload["user_id"]?.stringValue ?? "")")
            case "member_counts":
                lastCounts = (try #require(update.payload["total"]?.intValue), try #require(update.payload["online"]?.intValue))
            default: break
            }
        }
        #expect(sawMarker)
        return (news, lastCounts)
    }

    /// Waits (bounded) until the server counts `online` members online, as `asker` reads the counts: the
    /// connections closed before have been handled, so their presence was published before anything sent after.
    func waitOnline(_ online: Int64, asking asker: Client) async throws {
        for _ in 0..<250 {
            if try await asker.connection.memberPage(offset: 0, limit: 0).online == online { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the server never counted \(online) online")
    }

    @Test("a page is the list in username order with the counts; past the end is empty; bad bounds are refused and change nothing")
    func pages() async throws {
        let server = try await Self.start()
        let m = try await Self.members(server)
        let first = try await m[0].connection.memberPage(offset: 0, limit: 2)
        #expect(first.members.map(\.username) == ["m1", "m2"] && first.offset == 0 && first.total == 6 && first.online == 6)
        let middle = try await m[0].connection.memberPage(offset: 3, limit: 4)
        #expect(middle.members.map(\.username) == ["m4", "m5", "m6"] && middle.offset == 3 && middle.total == 6)
        let past = try await m[0].connection.memberPage(offset: 1_000_000_000_000, limit: 4)
        #expect(past.members.isEmpty && past.total == 6)
        let countsOnly = try await m[0].connection.memberPage(offset: 0, limit: 0)
        #expect(countsOnly.members.isEmpty && countsOnly.total == 6 && countsOnly.online == 6)
        let byID = try await m[0].connection.members(ids: [m[4].identity.userID, UUIDString.random(), m[1].identity.userID])
        #expect(byID.map(\.username) == ["m2", "m5"])

        // m2 shows m5 and m6; bad requests leave that as it was.
        _ = try await m[1].connection.memberPage(offset: 4, limit: 2)
        let refusals: [(JSONValue, String)] = [
            (["limit": 5], "data.payload.limit must be between 0 and 4."),
            (["limit": -1], "data.payload.limit must be between 0 and 4."),
            (["offset": -1], "data.payload.offset must be 0 or more."),
            (["offset": "3"], "data.payload.offset must be a number, not string."),
            (["limit": .double(1.5)], "data.payload.limit must be a whole number."),
            (["user_ids": .array([.string(m[0].identity.userID.value)]), "offset": 0], "data.payload.user_ids cannot be given with offset or limit."),
            (["user_ids": .array((0..<5).map { _ in .string(UUIDString.random().value) })], "data.payload.user_ids may hold at most 4 ids."),
            (["user_ids": .array([.string("alice")])], "data.payload.user_ids must hold UUIDs like 6f1c2c9e-0d6b-4e4e-9a43-8d2b1f7e5a10."),
            (["user_ids": "x"], "data.payload.user_ids must be an array, not string."),
        ]
        for (payload, message) in refusals {
            do {
                try await m[1].connection.community("get_members", payload)
                Issue.record("get_members \(payload) was accepted")
            } catch let error as CommuneError {
                #expect(error.code == .invalidArgument && error.message == message, "\(error)")
            }
        }
        // Still showing m5 and m6: m6 leaving reaches m2, m1 leaving (shown on nobody's page now but its own) does not.
        await m[5].connection.close()
        await m[0].connection.close()
        try await self.waitOnline(4, asking: m[3])
        _ = try await m[3].connection.sendMessage("after", to: self.general)
        let (news, _) = try await self.heard(by: m[1], until: "after")
        #expect(news == ["presence \(m[5].identity.userID.value)"])
        await server.stopAndRemove()
    }

    @Test("presence, joins and renames reach the pages that show the member and the member's own devices; the others get the counts once a second")
    func subscriptions() async throws {
        let server = try await Self.start()
        let m = try await Self.members(server)
        // m1 shows m1 and m2 (the first page, from login); m3 shows m3 and m4.
        _ = try await m[2].connection.memberPage(offset: 2, limit: 2)
        let phone = try await server.connect()
        _ = try await phone.login(m[5].identity)
        let phoneEvents = EventReader(phone)
        // What the logins said so far is read past.
        _ = try await m[4].connection.sendMessage("start", to: self.general)
        _ = try await self.heard(by: m[0], until: "start")
        _ = try await self.heard(by: m[2], until: "start")

        // m2 and m4 leave: each page hears of its own; m6's phone hears nothing of them.
        await m[1].connection.close()
        await m[3].connection.close()
        try await self.waitOnline(4, asking: m[4])
        _ = try await m[4].connection.sendMessage("left", to: self.general)
        let inFirst = try await self.heard(by: m[0], until: "left")
        let inSecond = try await self.heard(by: m[2], until: "left", counts: (6, 4))
        #expect(inFirst.news == ["presence \(m[1].identity.userID.value)"])
        #expect(inSecond.news == ["presence \(m[3].identity.userID.value)"])
        #expect(inSecond.counts.map { $0 == (6, 4) } == true)

        // A newcomer whose name sorts first lands on the first page: m1 hears of the join (and of them coming
        // online); m3's page does not hold them, so m3 gets the new counts.
        _ = try await server.member("a-newcomer")
        _ = try await m[4].connection.sendMessage("joined", to: self.general)
        let firstJoin = try await self.heard(by: m[0], until: "joined")
        #expect(firstJoin.news.first == "member_joined a-newcomer")
        let secondJoin = try await self.heard(by: m[2], until: "joined", counts: (7, 5))
        #expect(secondJoin.news.isEmpty)

        // The newcomer moved everyone down one place: m3 asks for its page again (m3 and m4 are now 3 and 4).
        let again = try await m[2].connection.memberPage(offset: 3, limit: 2)
        #expect(again.members.map(\.username) == ["m3", "m4"])
        // m6 renames into m3's page ("m3b" sorts after m3): m3 hears it, m1 does not; m6's own phone does.
        _ = try await m[5].connection.community("set_username", ["username": "m3b"])
        _ = try await m[4].connection.sendMessage("renamed", to: self.general)
        #expect(try await self.heard(by: m[2], until: "renamed").news == ["member_changed m3b"])
        #expect(try await self.heard(by: m[0], until: "renamed").news.isEmpty)
        let ownDevice = try await phoneEvents.nextUpdate("member_changed")
        #expect(ownDevice.payload["username"] == "m3b")
        await server.stopAndRemove()
    }
}
