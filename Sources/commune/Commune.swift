import ArgumentParser

@main
struct Commune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commune",
        abstract: "A self-hosted community chat server, and its command-line client.",
        discussion: """
            Run a community:      commune serve
            Make an invite:       commune invite create
            Join and chat:        commune join <invite> --name alice
                                  commune channels
                                  commune send General/General "hello"
                                  commune history General/General
                                  commune tail General/General
                                  commune voice status General/VC-1
            Your communities:     commune home set http://127.0.0.1:1984
                                  commune home list
                                  commune channels --community "Book club"
            Administer:           commune channel create Projects/Swift
                                  commune member ban troll --reason spam
                                  commune audit
                                  commune check-names
            Move to PostgreSQL:   commune migrate-store --from DATA --to postgres://…
            """,
        subcommands: [
            Serve.self, InviteCommand.self, Join.self, Channels.self, Send.self, History.self, Tail.self, Members.self,
            VoiceCommand.self, ChannelCommand.self, MemberCommand.self, Audit.self, CheckNames.self, Search.self, React.self, Pins.self,
            MigrateStore.self, HomeCommand.self,
        ]
    )
}
