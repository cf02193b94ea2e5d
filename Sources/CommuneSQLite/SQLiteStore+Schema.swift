import GRDB

/// The schema's migrations by name, for tools that read a store's file directly (`commune migrate-store` refuses a
/// file whose schema is older or newer than this build's, whose columns it would not know).
extension SQLiteStore {
    /// The names of the schema's migrations, in the order they are applied (GRDB's `grdb_migrations` table lists
    /// those a file has had).
    public static var migrationNames: [String] { Self.migrator.migrations }
}
