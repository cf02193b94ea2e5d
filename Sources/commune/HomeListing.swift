import CommuneClient
import CommuneProtocol
import Foundation

/// How `commune home list` shows a home, and how `move` and `remove` find an entry by id or title.
enum HomeListing {
    /// One line per entry in the home's order: `position  title  address  [id]`; a folder as its label's title (or
    /// `Folder x`) followed by its entries indented; an entry that did not open as `(could not be read)`.
    static func lines(_ list: HomeList) -> [String] {
        struct Row {
            var position: [Int]
            var text: String
        }
        struct Folder {
            var label: String?
            var rows: [Row] = []
        }
        var top: [Row] = []
        var folders: [Int: Folder] = [:]
        func place(_ row: Row, isLabel: Bool, title: String) {
            if isLabel {
                folders[row.position[0], default: Folder()].label = folders[row.position[0]]?.label ?? title
            } else if row.position.count >= 2 {
                folders[row.position[0], default: Folder()].rows.append(row)
            } else {
                top.append(row)
            }
        }
        for entry in list.entries {
            let text = entry.isFolderLabel ? "" : "\(entry.position)  \(Self.shown(entry.title))  \(Self.shown(entry.address))  [\(entry.id)]"
            place(Row(position: entry.position.components, text: text), isLabel: entry.isFolderLabel, title: Self.shown(entry.title))
        }
        for entry in list.unreadable {
            let position = entry.position.flatMap(HomePosition.init)
            place(Row(position: position?.components ?? [], text: "\(entry.position ?? "?")  (could not be read)  [\(entry.id)]"), isLabel: false, title: "")
        }
        var lines: [(key: [Int], text: String)] = top.map { ($0.position.isEmpty ? [Int.max] : $0.position, $0.text) }
        for (number, folder) in folders {
            let rows = folder.rows.sorted { $0.position.lexicographicallyPrecedes($1.position) }
            // After a top-level entry of the same number ("3" before folder 3's "3.1").
            lines.append(([number, -1], "\(number)  \(folder.label ?? "Folder \(number)")/"))
            lines += rows.map { ([number, -1] + $0.position.dropFirst(), "  \($0.text)") }
        }
        return lines.enumerated().sorted { lhs, rhs in
            lhs.element.key == rhs.element.key ? lhs.offset < rhs.offset : lhs.element.key.lexicographicallyPrecedes(rhs.element.key)
        }.map(\.element.text)
    }

    /// A title or address as one line of a terminal: control characters and line separators (which another client
    /// of the member could have sealed) become U+FFFD, so an entry cannot add lines or move the cursor.
    static func shown(_ text: String) -> String {
        var shown = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator: shown.append("\u{FFFD}")
            default: shown.append(scalar)
            }
        }
        return String(shown)
    }

    /// The id of the entry `text` names: its id (readable or not), else the one readable entry with that title.
    static func find(_ text: String, in list: HomeList) throws -> UUIDString {
        if let id = UUIDString(text), list.entries.contains(where: { $0.id == id }) || list.unreadable.contains(where: { $0.id == id.value }) {
            return id
        }
        let titled = list.entries.filter { $0.title.caseInsensitiveCompare(text) == .orderedSame }
        guard let first = titled.first else { throw CommandFailure("No entry '\(text)' in your home (`commune home list` shows ids and titles).") }
        guard titled.count == 1 else {
            throw CommandFailure("'\(text)' is the title of \(titled.count) entries (\(titled.map(\.id.value).joined(separator: ", "))): give its id.")
        }
        return first.id
    }
}
