import CommuneProtocol
import Foundation

/// Mentions in text channels, found in `send_message`'s text before anything is stored:
/// - a token `<@USER_ID>` (what the web client's autocomplete inserts) names a member by id, so names that change or
///   look alike never matter; an id that is no member's is refused with `not_found`;
/// - a typed `@name` (after the start of the text or white space) mentions the member whose username is exactly
///   the longest text after `@` that is a member's name in NFC and ends at white space or the end of the text
///   (trailing `.,:;!?)` dropped when the name with them is nobody's), so `@Bob Smith, hi` mentions "Bob Smith" over
///   "Bob"; only when exactly one member has that name. Look-alike names are never matched (usernames are unique up
///   to look-alikes, ``MemberRoster``), and a name no member has is left as text;
/// - `@everyone` mentions every member and needs `mention_everyone` (`forbidden` without it).
/// At most ``CommunityConfiguration/maxMentionsPerMessage`` distinct mentions (`@everyone` counts as one), else
/// `limit_reached`.
enum TextMentions {
    static let everyone = "everyone"

    /// The mentions of `text`, checked against the members and the sender's permissions.
    static func resolve(_ text: String, context: FunctionContext) throws(CommuneError) -> (members: [UUIDString], everyone: Bool) {
        let community = context.community
        let found = self.scan(text, maxNameScalars: community.configuration.maxUsernameLength)
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
            for candidates in found.names {
                guard let id = self.member(namedByLongestOf: candidates, in: byName) else { continue }
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

    /// The member named by the longest of `candidates` (longest first) that is a member's name: the candidate itself
    /// in NFC, or without its trailing punctuation. Only when exactly one member has that name: an ambiguous longest
    /// match mentions nobody rather than someone with a shorter name.
    static func member(namedByLongestOf candidates: [String], in byName: [String: [UUIDString]]) -> UUIDString? {
        for word in candidates {
            var candidate = word.precomposedStringWithCanonicalMapping
            for _ in 0..<2 {
                if let ids = byName[candidate] { return ids.count == 1 ? ids[0] : nil }
                let trimmed = String(candidate.reversed().drop { ".,:;!?)".contains($0) }.reversed())
                guard trimmed != candidate, !trimmed.isEmpty else { break }
                candidate = trimmed
            }
        }
        return nil
    }

    /// The tokens' ids, the typed names and whether `@everyone` appears, in the order written. Each typed name is
    /// its candidates, longest first: the text after `@` up to each white space (and the end of the text) within
    /// what a username can hold (`maxNameScalars` code points in NFC; four times as many as written, for decomposed
    /// text), so a name with spaces is found.
    static func scan(_ text: String, maxNameScalars: Int) -> (ids: [UUIDString], names: [[String]], everyone: Bool) {
        var ids: [UUIDString] = []
        var names: [[String]] = []
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
                if self.isEveryone(name) {
                    everyone = true
                } else {
                    names.append(self.candidates(scalars, from: index + 1, firstEnd: end, maxNameScalars: maxNameScalars))
                }
            }
            index = end
        }
        return (ids, names, everyone)
    }

    /// The texts from `start` up to each white space after `firstEnd` (and the end of the text) within
    /// `4 × maxNameScalars` code points, longest first, ending with the first word (`start..<firstEnd`).
    private static func candidates(_ scalars: [Unicode.Scalar], from start: Int, firstEnd: Int, maxNameScalars: Int) -> [String] {
        let limit = min(scalars.count, start + max(maxNameScalars, 1) * 4)
        var ends = [firstEnd]
        var index = firstEnd
        while index < limit {
            // A run of white space, then the next word: the text up to that word's end is a candidate.
            while index < limit, CharacterSet.whitespacesAndNewlines.contains(scalars[index]) { index += 1 }
            guard index < limit else { break }
            while index < scalars.count, !CharacterSet.whitespacesAndNewlines.contains(scalars[index]) { index += 1 }
            guard index <= limit else { break }
            ends.append(index)
        }
        return ends.reversed().map { end in
            var text = String.UnicodeScalarView()
            text.append(contentsOf: scalars[start..<end])
            return String(text)
        }
    }

    /// `everyone`, alone or followed by punctuation.
    static func isEveryone(_ word: String) -> Bool {
        word == self.everyone || (word.hasPrefix(self.everyone) && word.dropFirst(self.everyone.count).allSatisfy { ".,:;!?)".contains($0) })
    }
}
