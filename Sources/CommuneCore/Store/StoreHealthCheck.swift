/// Whether the store answers at all: what the server's readiness check (`GET /readyz`) asks before it says that
/// this node can take members.
///
/// `ping()` makes the cheapest read that still reaches the storage (SQLite: a row of `settings` from the database
/// file; PostgreSQL: `SELECT 1` through the connection pool; memory: nothing) and throws when that fails. It must not
/// write and must not wait for a lock that writers hold; the caller bounds how long it waits.
public protocol StoreHealthCheck: Sendable {
    func ping() async throws
}
