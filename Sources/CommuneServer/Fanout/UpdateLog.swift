import CommuneCore
import CommuneProtocol
import NIOCore

/// The community's recent updates in stream order, kept so that a member who reconnects gets what they missed.
///
/// Every update that goes to members (not to one connection) gets the next position and is kept here with the
/// members it reached and its framed bytes (the same buffer the fan-out queued, shared). The log keeps the newest
/// ``maxEntries`` updates and at most ``maxBytes`` of frames; a resume from further back is told to refetch. On
/// one node the stream lives in memory: its ``id`` is new at every start, so a resume across a restart refetches.
/// With several nodes the positions are the cluster stream's (``ClusterStream``), the same on every node, and the
/// log keeps what this node read of it since it started; positions that carried nothing for members are kept as
/// empty entries. Used under the ``ConnectionHub``'s lock only.
struct UpdateLog {
    struct Entry {
        var position: Int64
        var recipients: Recipients
        /// The key (``StreamPoint/connection``) of the connection that got a reply instead of this update.
        var excluded: String?
        var frame: ByteBuffer
    }

    /// The stream's identity (``StreamPoint/id``).
    let id: String
    let maxEntries: Int
    let maxBytes: Int
    /// The position of the newest update (0 before the first).
    private(set) var position: Int64 = 0
    /// Kept entries from `head` on, oldest first; positions are consecutive.
    private var entries: [Entry] = []
    private var head = 0
    private var bytes = 0

    init(id: String, position: Int64 = 0, maxEntries: Int, maxBytes: Int) {
        self.id = id
        self.position = position
        self.maxEntries = max(0, maxEntries)
        self.maxBytes = max(0, maxBytes)
    }

    /// Gives the next update its position and keeps it; `frame(position)` makes its framed bytes.
    mutating func append(recipients: Recipients, excluded: String?, frame: (Int64) -> ByteBuffer) -> ByteBuffer {
        self.position += 1
        let framed = frame(self.position)
        guard self.maxEntries > 0, framed.readableBytes <= self.maxBytes else {
            // Too big to keep: the stream goes on without it, so a resume from before it refetches.
            self.dropAll()
            return framed
        }
        self.entries.append(Entry(position: self.position, recipients: recipients, excluded: excluded, frame: framed))
        self.bytes += framed.readableBytes
        while self.entries.count - self.head > self.maxEntries || self.bytes > self.maxBytes {
            self.bytes -= self.entries[self.head].frame.readableBytes
            self.head += 1
        }
        if self.head >= 1024, self.head * 2 >= self.entries.count {
            self.entries.removeFirst(self.head)
            self.head = 0
        }
        return framed
    }

    /// Moves to `position` (a stream position that carried nothing for members), keeping an empty entry for it.
    mutating func skip(to position: Int64) {
        while self.position < position {
            _ = self.append(recipients: .members([]), excluded: nil) { _ in ByteBuffer() }
        }
    }

    private mutating func dropAll() {
        self.entries.removeAll(keepingCapacity: true)
        self.head = 0
        self.bytes = 0
    }

    /// The oldest position a resume may start after: a client that has seen it (or anything newer) misses nothing
    /// that is no longer kept.
    var oldestResumable: Int64 {
        self.head < self.entries.count ? self.entries[self.head].position - 1 : self.position
    }

    /// What `point` asks for, as `member` may see it: the kept updates after its position that reached `member`,
    /// except those its old connection was answered for directly; or why it cannot be resumed.
    func missed(since point: ResumePoint, by member: UUIDString, byteLimit: Int) -> Result<[ByteBuffer], ResumeRefusal> {
        guard point.stream == self.id else { return .failure(.otherStream) }
        guard point.position <= self.position else { return .failure(.ahead(self.position)) }
        guard point.position >= self.oldestResumable else { return .failure(.tooOld(self.entries.count - self.head)) }
        var frames: [ByteBuffer] = []
        var total = 0
        let first = self.head + Int(point.position - self.oldestResumable)
        for entry in self.entries[first...] {
            guard entry.excluded == nil || entry.excluded != point.connection else { continue }
            switch entry.recipients {
            case .everyone: break
            case .members(let members): guard members.contains(member) else { continue }
            // What a member list showed: the member's own news; a list subscription ends with its connection.
            case .connections(_, let members): guard members.contains(member) else { continue }
            case .connection: continue
            }
            total += entry.frame.readableBytes
            guard total <= byteLimit else { return .failure(.tooMuch) }
            frames.append(entry.frame)
        }
        return .success(frames)
    }
}

/// Why a resume is answered with `refetch`.
enum ResumeRefusal: Error, Equatable {
    case otherStream
    case ahead(Int64)
    case tooOld(Int)
    case tooMuch

    var reason: String {
        switch self {
        case .otherStream: "This is not the stream you were on: the server restarted since, and what happened meanwhile is not kept."
        case .ahead(let position): "That position is ahead of this stream, which is at \(position)."
        case .tooOld(let kept): "You were away for longer than this server keeps updates for (the last \(kept))."
        case .tooMuch: "You missed more than can be sent at once."
        }
    }
}
