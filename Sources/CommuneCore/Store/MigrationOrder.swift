/// Schema migrations in version order, as a store lists those it has had: by the number after the `v` of each name
/// (`v2-groups` before `v10-message-pins`, which sorted text would put first), then by name; a name without a version
/// number comes last.
///
/// The SQLite and PostgreSQL stores both list their applied migrations this way, so that tools comparing two stores'
/// schemas (or a store's with this build's) read one order.
public enum MigrationOrder {
    /// The version number `name` starts with (`v12-…` → 12), or `nil`.
    public static func version(of name: String) -> Int? {
        guard name.first == "v" else { return nil }
        return Int(name.dropFirst().prefix { $0.isASCII && $0.isNumber })
    }

    /// `names` in version order.
    public static func sorted(_ names: some Sequence<String>) -> [String] {
        names.sorted { first, second in
            switch (self.version(of: first), self.version(of: second)) {
            case let (one?, two?) where one != two: one < two
            case (.some, nil): true
            case (nil, .some): false
            default: first < second
            }
        }
    }
}
