import Synchronization

/// Group commit for a store's appends: every item submitted while a batch is being written goes into the next one.
///
/// Under load many callers share one transaction, so durable ingest is bounded by transactions per second times batch
/// size rather than by one commit per item. Each caller resumes only after the batch holding its item is written
/// (committed). Items are written in the order they were queued, and a caller is told it has its place in the queue
/// (``PipelinedWrite/queued()``) as soon as it has, so that a pipelining connection may start its next request.
///
/// No task of its own: the caller whose item heads the queue writes the batch it heads (its own item and those queued
/// behind it, through the `write` it passed), resumes the others in it, and hands the lead to the first item still
/// waiting. Used by the SQLite and PostgreSQL stores' message appends.
public final class GroupCommit<Item: Sendable, Output: Sendable>: Sendable {
    private enum Turn: Sendable {
        case written(Output)
        /// Your item heads the queue: write the next batch.
        case lead
    }

    private struct Pending: Sendable {
        let item: Item
        /// `nil` for the leader's own item (the leader is not waiting: it is writing).
        var continuation: CheckedContinuation<Turn, any Error>?
    }

    private struct State: Sendable {
        var queue: [Pending] = []
        /// A caller is writing a batch, or has been handed the lead.
        var leading = false
    }

    private let state = Mutex(State())
    /// The most items one batch takes.
    public let maxBatch: Int

    public init(maxBatch: Int = 1_000) {
        self.maxBatch = max(1, maxBatch)
    }

    /// Queues `item` (then calls ``PipelinedWrite/queued()``) and returns its output once the batch holding it is
    /// written. `write` writes a batch in one transaction and returns one output per item, in order; it runs only if
    /// this caller leads a batch (and then for the items of others too), so every caller of one queue must pass the
    /// same writing. A failed batch fails every caller in it with the same error.
    public func submit(_ item: Item, write: ([Item]) async throws -> [Output]) async throws -> Output {
        let leads = self.state.withLock { state in
            guard !state.leading else { return false }
            state.leading = true
            state.queue.append(Pending(item: item, continuation: nil))
            return true
        }
        if leads {
            PipelinedWrite.queued()
            return try await self.writeBatch(write)
        }
        let turn = try await withCheckedThrowingContinuation { continuation in
            let leadsNow = self.state.withLock { state in
                if state.leading {
                    state.queue.append(Pending(item: item, continuation: continuation))
                    return false
                }
                // The leader finished between the two locks: lead now.
                state.leading = true
                state.queue.append(Pending(item: item, continuation: nil))
                return true
            }
            PipelinedWrite.queued()
            if leadsNow { continuation.resume(returning: .lead) }
        }
        switch turn {
        case .written(let output): return output
        case .lead: return try await self.writeBatch(write)
        }
    }

    /// Writes the batch the caller's item heads, resumes the other callers in it, and hands the lead on.
    private func writeBatch(_ write: ([Item]) async throws -> [Output]) async throws -> Output {
        let batch: [Pending] = self.state.withLock { state in
            let count = min(state.queue.count, self.maxBatch)
            let batch = Array(state.queue.prefix(count))
            state.queue.removeFirst(count)
            return batch
        }
        var outcome: Result<[Output], any Error>
        do {
            outcome = .success(try await write(batch.map(\.item)))
        } catch {
            outcome = .failure(error)
        }
        if case .success(let outputs) = outcome, outputs.count != batch.count {
            outcome = .failure(GroupCommitError(items: batch.count, outputs: outputs.count))
        }
        // The lead passes on before anyone resumes, so that the next batch starts without waiting for them.
        let next: CheckedContinuation<Turn, any Error>? = self.state.withLock { state in
            guard !state.queue.isEmpty else {
                state.leading = false
                return nil
            }
            let continuation = state.queue[0].continuation
            state.queue[0].continuation = nil
            return continuation
        }
        next?.resume(returning: .lead)
        switch outcome {
        case .success(let outputs):
            for (pending, output) in zip(batch.dropFirst(), outputs.dropFirst()) {
                pending.continuation?.resume(returning: .written(output))
            }
            return outputs[0]
        case .failure(let error):
            for pending in batch.dropFirst() {
                pending.continuation?.resume(throwing: error)
            }
            throw error
        }
    }
}

/// A batch writer returned a different number of outputs than it was given items (a bug in the store).
public struct GroupCommitError: Error, Sendable, Hashable {
    public var items: Int
    public var outputs: Int
}
