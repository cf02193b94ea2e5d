import CommuneProtocol

/// The community's own information (seed 003's info node and public/private access): `get_info` for every member,
/// `set_info` with `manage_community`. Every member receives `info_changed`.
struct InfoFunctions: Capability {
    static let getInfo = "get_info"
    static let setInfo = "set_info"
    static let info = "info"
    static let infoChanged = "info_changed"

    var functions: [FunctionSpec] { [FunctionSpec(Self.getInfo), FunctionSpec(Self.setInfo)] }

    var results: [String] { [Self.info, Self.infoChanged] }

    func perform(_ call: FunctionCall, context: FunctionContext) async throws(CommuneError) -> Effect {
        let community = context.community
        guard call.function == Self.setInfo else {
            return .reply(CommunityFunctions.result(Self.info, community.info.json))
        }
        try community.permissions.require(.manageCommunity, for: context.member)
        let reader = try call.payload()
        var info = community.info
        var changes: [String] = []
        if let name = try reader.optionalString("name") {
            info.name = try StructureFunctions.validatedName(name, field: "data.payload.name")
            changes.append("name '\(info.name)'")
        }
        if let raw = try reader.optionalString("description") {
            let description = try TextPolicy.text(raw, field: "data.payload.description")
            let limit = community.configuration.maxDescriptionLength
            guard description.unicodeScalars.count <= limit else {
                throw .init(.tooLarge, "The description must be at most \(limit) characters.")
            }
            info.description = description
            changes.append("description")
        }
        if let icon = reader.object["icon"] {
            if icon == .null || icon == .string("") {
                info.icon = nil
            } else {
                guard let id = icon.stringValue else { throw .invalidArgument("data.payload.icon must be an attachment id or null, not \(icon.typeName).") }
                let record: (info: AttachmentInfo, uploader: UUIDString)?
                do { record = try await community.store.attachment(id) } catch { throw .internalError("The attachment could not be read.") }
                guard record != nil else { throw .notFound("No attachment '\(id)'; upload the icon first with POST /api/attachments.") }
                info.icon = id
            }
            changes.append("icon")
        }
        if let isPublic = try reader.optionalBool("public") {
            info.isPublic = isPublic
            changes.append(isPublic ? "public" : "private")
        }
        try await community.saveInfo(info)
        await community.audit(context.member, action: .communityInfo, target: "", "changed the community's \(changes.isEmpty ? "nothing" : changes.joined(separator: ", "))")
        return .broadcast(CommunityFunctions.result(Self.infoChanged, info.json), to: .community)
    }
}
