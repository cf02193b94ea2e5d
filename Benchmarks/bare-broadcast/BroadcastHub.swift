import NIOCore

/// Every connected member and the broadcast itself. Confined to one event loop (the server runs one), which is
/// why it needs no lock.
///
/// A message is framed once (`frame(text:)`), the one buffer is written to every other member without a flush,
/// and the members written to are flushed together by one task queued on the loop: it runs after the loop has
/// handled every socket that was readable in this turn, so a busy member gets one flush (one `writev`) per turn
/// however many messages arrived.
final class BroadcastHub: @unchecked Sendable {
    private let loop: any EventLoop
    private var members: [ObjectIdentifier: RawFrameWriter] = [:]
    private var pendingFlush: [RawFrameWriter] = []
    private var flushQueued = false
    private let allocator = ByteBufferAllocator()

    init(loop: any EventLoop) {
        self.loop = loop
    }

    func join(_ writer: RawFrameWriter) {
        self.loop.preconditionInEventLoop()
        self.members[ObjectIdentifier(writer)] = writer
    }

    func leave(_ writer: RawFrameWriter) {
        self.loop.preconditionInEventLoop()
        self.members[ObjectIdentifier(writer)] = nil
    }

    /// Sends the text to every member but `sender`.
    func broadcast(text: ByteBuffer, from sender: RawFrameWriter) {
        let frame = self.frame(text: text)
        for writer in self.members.values where writer !== sender {
            writer.write(frame)
            if !writer.needsFlush {
                writer.needsFlush = true
                self.pendingFlush.append(writer)
            }
        }
        if !self.flushQueued && !self.pendingFlush.isEmpty {
            self.flushQueued = true
            self.loop.execute { self.flushAll() }
        }
    }

    private func flushAll() {
        self.flushQueued = false
        let writers = self.pendingFlush
        self.pendingFlush.removeAll(keepingCapacity: true)
        for writer in writers { writer.flush() }
    }

    /// An unmasked, final text frame holding `text`.
    private func frame(text: ByteBuffer) -> ByteBuffer {
        let length = text.readableBytes
        var buffer = self.allocator.buffer(capacity: length + 10)
        buffer.writeInteger(UInt8(0x81))
        if length < 126 {
            buffer.writeInteger(UInt8(length))
        } else if length <= Int(UInt16.max) {
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(length))
        } else {
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(length))
        }
        var text = text
        buffer.writeBuffer(&text)
        return buffer
    }
}
