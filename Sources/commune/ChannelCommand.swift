import ArgumentParser
import CommuneClient
import CommuneProtocol
import Foundation

/// `commune channel …`: change the channel tree as a member with `manage_channels` (or `set_topic`).
struct ChannelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "channel",
        abstract: "Create, rename, move and remove channels and categories, set topics, and choose who may see them.",
        discussion: """
            Channels are named by their path: Category/Channel, or Channel at the top level. Every member sees the change at once.
              commune channel create Projects --codec category
              commune channel create Projects/Swift
              commune channel move Projects/Swift --parent "" --position 0
              commune channel topic General/General "Be kind."
              commune channel create Staff --codec category --private moderator
              commune channel access General/General --groups moderator,member
              commune channel access General/General --everyone
            """,
        subcommands: [Create.self, Rename.self, Move.self, Remove.self, Topic.self, Access.self]
    )

    /// Runs one structure function and prints what changed.
    static func run(_ client: ClientOptions, _ function: String, on address: ChannelAddress, payload: JSONValue, done: String) async throws {
        let (connection, _, _) = try await client.connect()
        try await closing(connection) {
            _ = try await orExit { try await connection.call(function, on: address, payload: payload) }
            Output.line(done)
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a text or voice channel, a category, or a link.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Where: Category/Name, or Name at the top level.") var channel: ChannelArgument
        @Option(help: "text, voice, category or link.") var codec = TextFunction.codec
        @Option(help: "For a link: community (target is its address) or user (target is a user id).") var kind: String?
        @Option(help: "For a link: what it points at.") var target: String?
        @Option(
            name: .customLong("private"),
            help: "Only these groups (comma-separated) may see it, and the owner; a category's restriction holds for everything in it."
        ) var privateGroups: String?

        func run() async throws {
            var payload: [String: JSONValue] = ["codec": .string(self.codec)]
            if let kind { payload["kind"] = .string(kind) }
            if let target { payload["target"] = .string(target) }
            if let privateGroups { payload["access"] = .array(ChannelCommand.groups(privateGroups).map { .string($0) }) }
            try await ChannelCommand.run(self.client, "create", on: self.channel.address, payload: .object(payload), done: "Created \(self.codec) \(self.channel.address).")
        }
    }

    struct Rename: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename a channel or category (its messages stay).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The channel: Category/Name.") var channel: ChannelArgument
        @Argument(help: "The new name.") var newName: String

        func run() async throws {
            try await ChannelCommand.run(self.client, "rename", on: self.channel.address, payload: ["new_name": .string(self.newName)], done: "Renamed \(self.channel.address) to \(self.newName).")
        }
    }

    struct Move: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move a channel or category: reorder it, or put it in another category.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The channel: Category/Name.") var channel: ChannelArgument
        @Option(help: "The category to move into (\"\" for the top level; default: where it is).") var parent: String?
        @Option(help: "Its place among its new siblings, from 0 (default: last).") var position: Int64?

        func run() async throws {
            var payload: [String: JSONValue] = [:]
            if let parent { payload["parent_path"] = .string(parent) }
            if let position { payload["position"] = .int(position) }
            try await ChannelCommand.run(self.client, "move", on: self.channel.address, payload: .object(payload), done: "Moved \(self.channel.address).")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a channel, or a category with everything in it, and their messages.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The channel: Category/Name.") var channel: ChannelArgument
        @Flag(help: "Confirm: the messages are deleted for good.") var yes = false

        func validate() throws {
            guard self.yes else { throw ValidationError("Removing deletes the channel's messages for good; add --yes to confirm.") }
        }

        func run() async throws {
            try await ChannelCommand.run(self.client, "remove", on: self.channel.address, payload: [:], done: "Removed \(self.channel.address).")
        }
    }

    /// `a, b,c` → `["a", "b", "c"]` (group names never hold a comma's neighbours' white space).
    static func groups(_ list: String) -> [String] {
        list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    struct Access: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Choose who may see a channel or category: some groups only (a private channel), or everyone.",
            discussion: "The owner always sees everything. You cannot hide a channel from a group at or above your own power level."
        )
        @OptionGroup var client: ClientOptions
        @Argument(help: "The channel or category: Category/Name.") var channel: ChannelArgument
        @Option(help: "The groups that may see it, comma-separated.") var groups: String?
        @Flag(help: "Let every member see it again.") var everyone = false

        func validate() throws {
            guard (self.groups != nil) != self.everyone else { throw ValidationError("Give either --groups a,b or --everyone.") }
        }

        func run() async throws {
            let list = self.groups.map(ChannelCommand.groups)
            let payload: JSONValue = ["groups": list.map { .array($0.map { .string($0) }) } ?? .null]
            let who = list.map { $0.isEmpty ? "the owner only" : $0.joined(separator: ", ") } ?? "everyone"
            try await ChannelCommand.run(self.client, "set_access", on: self.channel.address, payload: payload, done: "\(self.channel.address) is now seen by \(who).")
        }
    }

    struct Topic: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a text or voice channel's topic (\"\" clears it).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The channel: Category/Name.") var channel: ChannelArgument
        @Argument(help: "The topic.") var topic: String

        func run() async throws {
            try await ChannelCommand.run(self.client, "set_topic", on: self.channel.address, payload: ["topic": .string(self.topic)], done: "Set the topic of \(self.channel.address).")
        }
    }
}
