import CommuneClient
import CommuneCore
import CommuneProtocol
import Testing

@Suite("Structure and message changes, live")
struct StructureTests {
    let general = ChannelAddress(path: "General", name: "General")

    func names(_ update: FunctionResult) throws -> [String] {
        var names: [String] = []
        InteractableNode.walk(try InteractableNode.decodeTree(update.payload["interactables"] ?? [:])) { path, node in
            names.append(path.isEmpty ? node.name : "\(path)/\(node.name)")
        }
        return names
    }

    @Test("create, rename, move and remove reach every member as tree_changed")
    func structure() async throws {
        let server = try await TestServer.start()
        let owner = try await server.owner()
        let observer = try await server.member("watcher")

        _ = try await owner.connection.call("create", on: ChannelAddress(path: "", name: "Projects"), payload: ["codec": "category"])
        #expect(try self.names(try await observer.events.nextUpdate("tree_changed")) == ["General", "General/General", "General/VC-1", "Rules", "Projects"])
        _ = try await owner.connection.call("create", on: ChannelAddress(path: "Projects", name: "Swift"), payload: ["codec": "text"])
        _ = try await observer.events.nextUpdate("tree_changed")
        _ = try await owner.connection.call("create", on: ChannelAddress(path: "Projects", name: "Inner"), payload: ["codec": "category"])
        _ = try await observer.events.nextUpdate("tree_changed")
        _ = try await owner.connection.call("move", on: ChannelAddress(path: "Projects", name: "Swift"), payload: ["parent_path": "Projects/Inner"])
        #expect(try self.names(try await observer.events.nextUpdate("tree_changed")).contains("Projects/Inner/Swift"))
        _ = try await owner.connection.call("rename", on: ChannelAddress(path: "", name: "Rules"), payload: ["new_name": "Read me"])
        _ = try await observer.events.nextUpdate("tree_changed")
        _ = try await owner.connection.call("move", on: ChannelAddress(path: "", name: "Read me"), payload: ["position": 0])
        #expect(try self.names(try await observer.events.nextUpdate("tree_changed")).prefix(2) == ["Read me", "General"])

        // Messages follow their channel; sending works at the new address.
        _ = try await observer.connection.sendMessage("deep", to: ChannelAddress(path: "Projects/Inner", name: "Swift"))
        do {
            _ = try await owner.connection.call("move", on: ChannelAddress(path: "", name: "Projects"), payload: ["parent_path": "Projects/Inner"])
            Issue.record("a category moved into itself")
        } catch let error as CommuneError {
            #expect(error == .invalidArgument("A category cannot move into itself."))
        }
        do {
            _ = try await owner.connection.call("create", on: ChannelAddress(path: "", name: "General"), payload: ["codec": "text"])
            Issue.record("a duplicate name was accepted")
        } catch let error as CommuneError {
            #expect(error.code == .invalidArgument)
        }
        _ = try await owner.connection.call("remove", on: ChannelAddress(path: "", name: "Projects"))
        #expect(try self.names(try await observer.events.nextUpdate("tree_changed")) == ["Read me", "General", "General/General", "General/VC-1"])

        // A fresh login sees the same tree, in the same order.
        let fresh = try await server.connect()
        let welcome = try await fresh.login(observer.identity)
        #expect(welcome.interactables.map(\.name) == ["Read me", "General"])
        let log = try await owner.connection.call("get_audit_log", on: ChannelAddress(path: "", name: ""), codec: "community")
        let entries = log.payload["entries"]?.arrayValue ?? []
        #expect(entries.count >= 7)
        // Newest first: the action word and the node's address after the change.
        #expect(
            entries.prefix(7).map { "\($0["action"]?.stringValue ?? "?") \($0["target"]?.stringValue ?? "?")" } == [
                "remove Projects", "move Read me", "rename Read me", "move Projects/Inner/Swift", "create Projects/Inner",
                "create Projects/Swift", "create Projects",
            ]
        )
        #expect(entries[2]["text"] == "renamed text 'Rules' to 'Read me'")
        await server.stopAndRemove()
    }

    @Test("authors edit and remove their own messages; others see it live; the slot stays")
    func editAndRemove() async throws {
        let server = try await TestServer.start()
        let alice = try await server.member("alice")
        let bob = try await server.member("bob")
        let first = try await alice.connection.sendMessage("helo", to: self.general)
        _ = try await bob.events.nextUpdate("message_live")
        _ = try await alice.connection.call("edit_message", on: self.general, codec: "text", payload: ["message_id": .int(first.messageID), "message": "hello"])
        let edited = try await bob.events.nextUpdate("message_edited")
        #expect(edited.payload["message"] == "hello")
        #expect(edited.payload["sender_id"] == .string(alice.identity.userID.value))
        _ = try await alice.connection.call("remove_message", on: self.general, codec: "text", payload: ["message_id": .int(first.messageID)])
        _ = try await bob.events.nextUpdate("message_removed")
        let history = try await bob.connection.messages(in: self.general)
        #expect(history.map(\.messageID) == [1])
        #expect(history[0].message == "*Message Removed*" && history[0].senderID == nil)
        do {
            _ = try await alice.connection.call("edit_message", on: self.general, codec: "text", payload: ["message_id": 1, "message": "back"])
            Issue.record("a removed message was edited")
        } catch let error as CommuneError {
            #expect(error.code == .notFound)
        }
        #expect(try await alice.connection.sendMessage("next", to: self.general).messageID == 2)
        await server.stopAndRemove()
    }
}
