import CommuneProtocol
import Foundation

/// Mentions in text channels, found in `send_message`'s text before anything is stored:
/// - a token `<@USER_ID>` (what the web client's autocomplete inserts) names a member by id, so names that change or
///   look alike never matter; an id that is no member's is refused with `not_found`;
/// - a typed `@name` (after the start of the text or white space, up to the next white space, without trailing
///   `.,:;!?)`) mentions the member whose username is exactly that name in NFC; look-alike names are never matched
///   (usernames are unique up to look-alikes, ``MemberRoster``), and a name no member has is left as text;
/// - `@everyone` mentions every member and needs `mention_everyone` (`forbidden` without it).
/// At most ``CommunityConfiguration/maxMentionsPerMessage`` distinct mentions (`@everyone` counts as one), else
/// `limit_reached`.
enum TextMentions {
    static let everyone = "everyone"

    /// The mentions of `text`, checked against the members and the sender's permissions.
    static func resolve(_ text: String, context: FunctionContext) throws(CommuneError) -> (members: [UUIDString], everyone: Bool) {
        let community = context.community
        let found = self.scan(text)
        var members: [UUIDString] = []
        var seen: Set<UUIDString> = []
        let limit = community.configuration.maxMentionsPerMessage
        for id in found.ids {
            guard community.member(id) != nil else { throw .notFound("No member \(id.value) to mention.") }
            if seen.insert(id).inserted { members.append(id) }
        }
        if !found.names.isEmpty {
            var byName: [String: [UUIDString]] = [:]
            for member in community.members() { byName[member.username, default: []].append(member.id) }
            for name in found.names {
                guard let id = self.member(named: name, in: byName) else { continue }
                if seen.insert(id).inserted { members.append(id) }
            }
        }
        let count = members.count + (found.everyone ? 1 : 0)
        guard count <= limit else {
            throw CommuneError(.limitReached, "The message mentions \(count) members; a message may mention at most \(limit).")
        }
        if found.everyone { try community.permissions.require(.mentionEveryone, for: context.member) }
        return (members, found.everyone)
    }

    /// The member whose username is exactly `word` in NFC, or `word` without its trailing punctuation; only when
    /// exactly one member has it.
    static func member(named word: String, in byName: [String: [UUIDString]]) -> UUIDString? {
        var candidate = word.precomposedStringWithCanonicalMapping
        for _ in 0..<2 {
            if let ids = byName[candidate] { return ids.count == 1 ? ids[0] : nil }
            let trimmed = String(candidate.reversed().drop { ".,:;!?)".contains($0) }.reversed())
            guard trimmed != candidate, !trimmed.isEmpty else { return nil }
            candidate = trimmed
        }
        return nil
    }

    /// The tokens' ids, the typed names (without `@`) and whether `@everyone` appears, in the order written.
    static func scan(_ text: String) -> (ids: [UUIDString], names: [String], everyone: Bool) {
        var ids: [UUIDString] = []
        var names: [String] = []
        var everyone = false
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while index < scalars.count {
            guard scalars[index] == "@" else {
                index += 1
                continue
            }
            // `<@` + 36 characters + `>`: a token.
            if index > 0, scalars[index - 1] == "<", index + 37 < scalars.count, scalars[index + 37] == ">" {
                var inner = String.UnicodeScalarView()
                inner.append(contentsOf: scalars[(index + 1)...(index + 36)])
                if let id = UUIDString(String(inner)) {
                    ids.append(id)
                    index += 38
                    continue
                }
            }
            let atWordStart = index == 0 || CharacterSet.whitespacesAndNewlines.contains(scalars[index - 1])
            var end = index + 1
            while end < scalars.count, !CharacterSet.whitespacesAndNewlines.contains(scalars[end]) { end += 1 }
            if atWordStart, end > index + 1 {
                var word = String.UnicodeScalarView()
                word.append(contentsOf: scalars[(index + 1)..<end])
                let name = String(word)
                if self.isEveryone(name) { everyone = true } else { names.append(name) }
            }
            index = end
        }
        return (ids, names, everyone)
    }

    /// `everyone`, alone or followed by punctuation.
    static func isEveryone(_ word: String) -> Bool {
        word == self.everyone || (word.hasPrefix(self.everyone) && word.dropFirst(self.everyone.count).allSatisfy { ".,:;!?)".contains($0) })
    }
}
