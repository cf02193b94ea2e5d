import NIOCore

/// The WebSocket half of ``ConnectionGuard``: RFC 6455 checks made from frame headers, before payloads are buffered.
extension ConnectionGuard {
    struct FrameState {
        var header: [UInt8] = []
        var payloadRemaining = 0
        var inPayload = false
        var opcode: UInt8 = 0
        var fin = false
        var mask: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        var maskOffset = 0
        var inMessage = false
        var messageIsText = false
        var messageBytes = 0
        var utf8 = UTF8Validator()
        var sawMessage = false
    }

    func readFrames(_ bytes: UnsafeRawBufferPointer, _ offset: inout Int) -> Failure? {
        while offset < bytes.count {
            if self.frames.inPayload {
                let taken = min(self.frames.payloadRemaining, bytes.count - offset)
                if self.frames.messageIsText, self.frames.opcode < 0x8 {
                    let mask = [self.frames.mask.0, self.frames.mask.1, self.frames.mask.2, self.frames.mask.3]
                    var maskOffset = self.frames.maskOffset
                    for index in offset..<(offset + taken) {
                        guard self.frames.utf8.read(bytes[index] ^ mask[maskOffset & 3]) else {
                            return .webSocket(1007, "invalid UTF-8")
                        }
                        maskOffset += 1
                    }
                    self.frames.maskOffset = maskOffset
                }
                offset += taken
                self.frames.payloadRemaining -= taken
                if self.frames.payloadRemaining == 0, let failure = self.frameComplete() { return failure }
                continue
            }
            self.frames.header.append(bytes[offset])
            offset += 1
            let header = self.frames.header
            if header.count == 2, let failure = self.checkFrameStart(header[0], header[1]) { return failure }
            guard header.count >= 2 else { continue }
            let lengthBytes = switch header[1] & 0x7F {
            case 126: 2
            case 127: 8
            default: 0
            }
            guard header.count == 2 + lengthBytes + 4 else { continue }
            var length = Int(header[1] & 0x7F)
            if lengthBytes > 0 {
                guard lengthBytes == 2 || header[2] & 0x80 == 0 else { return .webSocket(1009, "message too large") }
                length = header[2..<(2 + lengthBytes)].reduce(0) { min($0, Int.max >> 9) << 8 | Int($1) }
            }
            if let failure = self.checkFrameLength(length) { return failure }
            let key = header.suffix(4).map { $0 }
            self.frames.mask = (key[0], key[1], key[2], key[3])
            self.frames.maskOffset = 0
            self.frames.header.removeAll(keepingCapacity: true)
            self.frames.payloadRemaining = length
            self.frames.inPayload = true
            if length == 0, let failure = self.frameComplete() { return failure }
        }
        return nil
    }

    /// The first two bytes of a frame: flags, opcode, mask bit, and where it stands in a message.
    func checkFrameStart(_ first: UInt8, _ second: UInt8) -> Failure? {
        let fin = first & 0x80 != 0
        let opcode = first & 0x0F
        guard first & 0x70 == 0 else { return .webSocket(1002, "reserved bits set") }
        guard second & 0x80 != 0 else { return .webSocket(1002, "unmasked frame") }
        switch opcode {
        case 0x8, 0x9, 0xA:
            guard fin, second & 0x7F <= 125 else { return .webSocket(1002, "invalid control frame") }
        case 0x0:
            guard self.frames.inMessage else { return .webSocket(1002, "continuation frame outside a message") }
        case 0x1, 0x2:
            guard !self.frames.inMessage else { return .webSocket(1002, "new message inside a fragmented message") }
        default:
            return .webSocket(1002, "reserved opcode")
        }
        self.frames.fin = fin
        self.frames.opcode = opcode
        return nil
    }

    /// A frame's length is known: data frames count against the message limit before their payload is buffered.
    func checkFrameLength(_ length: Int) -> Failure? {
        let opcode = self.frames.opcode
        guard opcode < 0x8 else {
            if opcode == 0x8, length == 1 { return .webSocket(1002, "invalid close frame") }
            return nil
        }
        let limit = self.admission.isLoggedIn ? self.maxMessageBytes : self.limits.maxMessageBytesBeforeLogin
        let total = (opcode == 0x0 ? self.frames.messageBytes : 0) + length
        guard total <= limit else { return .webSocket(1009, "message too large") }
        if opcode != 0x0 {
            self.frames.inMessage = true
            self.frames.messageIsText = opcode == 0x1
            self.frames.utf8 = UTF8Validator()
            self.frames.sawMessage = true
        }
        self.frames.messageBytes = total
        return nil
    }

    func frameComplete() -> Failure? {
        self.frames.inPayload = false
        if self.frames.opcode == 0xA { self.awaitingPong = false }
        guard self.frames.opcode < 0x8, self.frames.fin else { return nil }
        self.frames.inMessage = false
        self.frames.messageBytes = 0
        if self.frames.messageIsText, !self.frames.utf8.isComplete { return .webSocket(1007, "invalid UTF-8") }
        return nil
    }
}
