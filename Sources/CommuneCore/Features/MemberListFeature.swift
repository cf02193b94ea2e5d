import CommuneProtocol

/// The member list (`get_members`), with who is online; its updates (`member_joined`, `presence`) come from
/// registration and from connections opening and closing.
struct MemberListFeature: Capability {
    var functions: [FunctionSpec] { [FunctionSpec(CommunityFunctions.getMembers)] }

    var results: [String] { [CommunityFunctions.memberList, CommunityFunctions.memberJoined, CommunityFunctions.presence] }

    func perform(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        let members = community.members().map { CommunityFunctions.json(for: $0, online: community.isOnline($0.id)) }
        return .reply(CommunityFunctions.result(CommunityFunctions.memberList, ["members": .array(members)]))
    }
}
