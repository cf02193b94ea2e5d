import CommuneCore
import Logging
import ServiceLifecycle

/// Writes the community's pending read marks (``ReadMarkBuffer``) once a second, and a last time when the server
/// stops, so that marking read costs one store write per second however many members read along.
struct ReadMarkFlusher: Service {
    let community: Community
    let logger: Logger
    static let period: Duration = .seconds(1)

    func run() async throws {
        await repeatEvery(Self.period) { await self.flush() }
        await self.flush()
    }

    private func flush() async {
        do {
            try await self.community.readMarks.flush(to: self.community.store)
        } catch {
            self.logger.error("Read marks could not be stored (kept to try again): \(error)")
        }
    }
}
