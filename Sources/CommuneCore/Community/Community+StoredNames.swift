import CommuneProtocol
import Synchronization

/// A stored name that the current text rules refuse, or that looks like another name of its kind: stored by an older
/// version, before those rules. It stays as it is (renaming someone is a moderator's call); the server warns about it
/// at start and `commune check-names` lists it.
public struct StoredNameProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case member
        case channel
        case group
        case community
    }

    public var kind: Kind
    /// The name as stored.
    public var name: String
    /// Where it is: a member's user id, a channel's parent path (empty at the top level); empty for the others.
    public var place: String
    /// What is wrong with it, as the error a client would get for it today, or the name it looks like (a sentence).
    public var problem: String

    /// One line for a log or a terminal, with every character a name may not hold shown as `<U+202E>`, so that the
    /// line itself cannot be reordered or hidden.
    public var description: String {
        let place = switch self.kind {
        case .member: " (user_id \(self.place))"
        case .channel: self.place.isEmpty ? " (top level)" : " (in '\(Self.shown(self.place))')"
        case .group, .community: ""
        }
        return Self.shown("\(self.kind.rawValue) name '\(self.name)'\(place): \(self.problem)")
    }

    /// `text` with each character that ``TextPolicy`` refuses in a name written as its code point.
    static func shown(_ text: String) -> String {
        var shown = ""
        for scalar in text.unicodeScalars {
            if TextPolicy.firstRefusal(inName: String(scalar)) == nil {
                shown.unicodeScalars.append(scalar)
            } else {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                shown += "<U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + ">"
            }
        }
        return shown
    }
}

extension Community {
    /// Every stored name that breaks the rules of ``TextPolicy`` as they are now: member, channel, group and community
    /// names that would be refused, and members' names that look like another member's, channels' like a sibling's,
    /// groups' like another group's (each of two look-alikes is listed).
    public func storedNameProblems() -> [StoredNameProblem] {
        let (members, tree, groups, communityName) = self.state.withLock { state in
            (state.members, state.tree, Array(state.groups.keys), state.info.name)
        }
        var problems: [StoredNameProblem] = []
        func refusal(_ check: () throws(CommuneError) -> String) -> String? {
            do {
                _ = try check()
                return nil
            } catch {
                return error.message
            }
        }

        for member in members.values.sorted(by: { ($0.username, $0.id.value) < ($1.username, $1.id.value) }) {
            let refused = refusal { () throws(CommuneError) in
                try TextPolicy.name(member.username, field: "The username", maxLength: self.configuration.maxUsernameLength)
            }
            let lookalike = members.member(lookingLike: member.username, excluding: member.id).map {
                "Looks like the name of another member ('\($0.username)', user_id \($0.id))."
            }
            for problem in [refused, lookalike].compactMap(\.self) {
                problems.append(StoredNameProblem(kind: .member, name: member.username, place: member.id.value, problem: problem))
            }
        }

        for node in tree.nodes.values.sorted(by: { $0.id < $1.id }) {
            let path = tree.address(of: node).path
            let refused = refusal { () throws(CommuneError) in try StructureFunctions.validatedName(node.name, field: "The name") }
            let lookalike = tree.sibling(lookingLike: node.name, under: node.parentID, excluding: node.id).map { "Looks like its sibling '\($0.name)'." }
            for problem in [refused, lookalike].compactMap(\.self) {
                problems.append(StoredNameProblem(kind: .channel, name: node.name, place: path, problem: problem))
            }
        }

        for group in groups.sorted() {
            let refused = refusal { () throws(CommuneError) in try StructureFunctions.validatedName(group, field: "The group name") }
            let lookalike = TextPolicy.lookalike(of: group, among: groups.filter { $0 != group }).map { "Looks like the group '\($0)'." }
            for problem in [refused, lookalike].compactMap(\.self) {
                problems.append(StoredNameProblem(kind: .group, name: group, place: "", problem: problem))
            }
        }

        if let refused = refusal({ () throws(CommuneError) in try StructureFunctions.validatedName(communityName, field: "The community name") }) {
            problems.append(StoredNameProblem(kind: .community, name: communityName, place: "", problem: refused))
        }
        return problems
    }
}
