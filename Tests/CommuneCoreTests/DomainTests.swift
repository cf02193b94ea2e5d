import CommuneProtocol
import Testing

@testable import CommuneCore

@Suite("Domain rules")
struct DomainTests {
    @Test("messages: not blank, at most the limit in code points")
    func messageValidation() throws {
        try TextChannelCodec.validate(message: "hi", limit: 4)
        try TextChannelCodec.validate(message: "😀😀😀😀", limit: 4)
        #expect(throws: CommuneError.invalidArgument("data.payload.message must not be empty.")) {
            try TextChannelCodec.validate(message: " \n\t", limit: 4)
        }
        #expect(throws: CommuneError(.tooLarge, "The message has 5 characters; the limit is 4.")) {
            try TextChannelCodec.validate(message: "hello", limit: 4)
        }
    }

    @Test("the tree resolves addresses and keeps sibling order")
    func tree() {
        let tree = InteractableTree([
            Interactable(id: 1, parentID: nil, name: "General", codec: "category", position: 0),
            Interactable(id: 2, parentID: nil, name: "Rules", codec: "text", position: 1),
            Interactable(id: 3, parentID: 1, name: "VC-1", codec: "voice", position: 1),
            Interactable(id: 4, parentID: 1, name: "General", codec: "text", position: 0),
        ])
        #expect(tree.node(at: ChannelAddress(path: "General", name: "General"))?.id == 4)
        #expect(tree.node(at: ChannelAddress(path: "", name: "Rules"))?.id == 2)
        #expect(tree.node(at: ChannelAddress(path: "", name: "General"))?.id == 1)
        #expect(tree.node(at: ChannelAddress(path: "Nope", name: "General")) == nil)
        let wire = tree.wireNodes(holdsChildren: CodecRegistry.standard.holdsChildren) { _ in [:] }
        #expect(wire.map(\.name) == ["General", "Rules"])
        #expect(wire[0].children.map(\.name) == ["General", "VC-1"])
    }

    @Test("invites refuse when revoked, used up or expired")
    func inviteRefusal() {
        let invite = Invite(code: "x", group: "member", usesLeft: 1, expiresAt: 100, createdAt: 0)
        #expect(invite.refusal(now: 99) == nil)
        #expect(invite.refusal(now: 100) == "This invite has expired.")
        var used = invite
        used.usesLeft = 0
        #expect(used.refusal(now: 0) == "This invite has been used up.")
        var revoked = invite
        revoked.revoked = true
        #expect(revoked.refusal(now: 0) == "This invite was revoked.")
        #expect(Invite.randomCode().count == 24)
    }

    @Test("channel addresses parse from the command line form")
    func addresses() {
        #expect(ChannelAddress(slashed: "General/General") == ChannelAddress(path: "General", name: "General"))
        #expect(ChannelAddress(slashed: "/Rules") == ChannelAddress(path: "", name: "Rules"))
        #expect(ChannelAddress(slashed: "A/B/C")?.path == "A/B")
        #expect(ChannelAddress(slashed: "") == nil)
    }
}
