import NIOCore

/// Runs a task's jobs on an event loop: a connection's requests run on the loop that reads and writes its socket.
///
/// On Swift concurrency's own pool a request woke a pool thread when it was read, another when the store's commit
/// resumed it, and the event loop again for its reply and updates: on a quiet server each hop is a thread wake-up, and
/// at 50 members and 100 messages/s they were a large part of what a message cost (issue 16). With this executor
/// preferred, a request read on the loop runs on it after the loop's current turn, and resumes there after awaiting
/// the store. Only the connection's requests prefer it (their work is decoding, checks and queueing; the stores'
/// writes run on their own queues or sockets); the HTTP routes and the rest keep the pool.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
