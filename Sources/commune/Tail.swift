import ArgumentParser
import CommuneClient
import CommuneProtocol
import Foundation

struct Tail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a text channel's new messages as they arrive, until interrupted (Ctrl-C).",
        discussion: """
            Reconnects by itself when the connection drops and resumes the community's stream of updates, so what
            was sent meanwhile is printed, in order, without gaps or duplicates (read from history, by message id,
            when the server cannot resume: it restarted, or the drop was too long). A reply starts with its original's preview (↪ #41 bob: first line | ).
            Who is typing shows on standard error: a status line under the messages on a terminal, else a line
            "bob is typing…" when they start and "bob stopped typing" when they stop.
            """
    )

    @OptionGroup var client: ClientOptions

    @Argument(help: "The text channel: Category/Channel, or Channel at the top level.")
    var channel: ChannelArgument

    @Option(help: "Also print this many recent messages first.")
    var last = 0

    @Flag(help: "Print each message as one JSON object per line.")
    var json = false

    @Flag(help: "Print spoilers' content (otherwise each shows as ||…||).")
    var spoilers = false

    func run() async throws {
        var lastSeen: Int64?
        var resume: ResumePoint?
        var delay: Duration = .milliseconds(500)
        let typing = TypingLine()
        while true {
            do {
                let (connection, welcome, _) = try await self.client.connectOrThrow(resume: resume)
                delay = .milliseconds(500)
                let names = try await MessagePrinter.names(connection)
                // Resumed: what was missed follows as updates. Otherwise catch up from history: the newest page, then
                // only what is newer than what was printed.
                let resumed = if case .resumed? = welcome.resume { true } else { false }
                switch welcome.resume {
                case .resumed(let missed)?: Output.error(missed == 1 ? "Reconnected; 1 missed update follows." : "Reconnected; \(missed) missed updates follow.")
                case .refetch?: Output.error("Reconnected; reading what was missed from the history.")
                case nil: break
                }
                let backlog = lastSeen == nil ? self.last : resumed ? 0 : 100
                if backlog > 0 {
                    let recent = try await connection.messages(in: self.channel.address, amount: min(backlog, 100))
                    for message in recent.reversed() where message.messageID > (lastSeen ?? 0) {
                        await self.print(message, names: names, typing: typing)
                        lastSeen = message.messageID
                    }
                } else if lastSeen == nil {
                    lastSeen = try await connection.messages(in: self.channel.address, amount: 1).first?.messageID ?? 0
                }
                var knownNames = names
                // Indicators end by themselves: checked four times a second while connected.
                let expiring = Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(250))
                        await typing.expire()
                    }
                }
                defer { expiring.cancel() }
                for await update in connection.updates {
                    if update.result == "member_joined", let id = update.payload["user_id"]?.stringValue.flatMap(UUIDString.init) {
                        knownNames[id] = update.payload["username"]?.stringValue
                    }
                    guard update.address == self.channel.address else { continue }
                    if update.result == TextFunction.memberTyping,
                        let id = update.payload["user_id"]?.stringValue.flatMap(UUIDString.init), id != welcome.userID
                    {
                        await typing.started(id, name: knownNames[id] ?? String(id.value.prefix(8)))
                        continue
                    }
                    guard update.result == TextFunction.messageLive,
                        let message = try? ChatMessage(json: update.payload), message.messageID > (lastSeen ?? 0)
                    else { continue }
                    if let sender = message.senderID { await typing.stopped(sender) }
                    await self.print(message, names: knownNames, typing: typing)
                    lastSeen = message.messageID
                }
                resume = connection.resumePoint
                await typing.clear()
                Output.error("Connection lost (\(connection.closeError?.description ?? "closed")); reconnecting…")
            } catch let error as CommandFailure {
                throw error
            } catch let error as CommuneClientError where error == .communityKeyMismatch {
                Output.error("error: \(error.description)")
                throw ExitCode.failure
            } catch let error as CommuneError {
                Output.error("error: \(error.message) (\(error.code))")
                throw ExitCode.failure
            } catch {
                Output.error("Connection failed (\(error)); retrying…")
            }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(30))
        }
    }

    func print(_ message: ChatMessage, names: [UUIDString: String], typing: TypingLine) async {
        await typing.print(self.json ? message.json.jsonString : MessagePrinter.line(message, names: names, spoilers: self.spoilers))
    }
}
