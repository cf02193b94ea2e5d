import Foundation
import NIOCore

/// An XMPP client on a plain TCP c2s stream (RFC 6120) joining a multi-user chat room (XEP-0045).
///
/// Stream open → SASL PLAIN → stream restart → resource bind → (logIn) presence to `room/nick` → groupchat
/// messages. Only loopback, no TLS: the Prosody instance the bench script starts allows plain authentication on
/// unencrypted streams. The XML is not parsed: the handshake waits for fixed markers, and after joining the
/// session scans everything up to the last `>` for ``BenchMessage`` markers in bodies.
final class XMPPSession: BenchSession {
    private enum State {
        case opening, authenticating, restarting, binding, bound, joining, joined, closed
    }

    let index: Int
    private unowned let run: BenchRun
    private var state = State.opening
    private var context: ChannelHandlerContext?
    private var pending: ByteBuffer?
    private let user: String
    private let messagePrefix: [UInt8]
    private static let messageSuffix: [UInt8] = Array("</body></message>".utf8)

    private static let featuresEnd: [UInt8] = Array("</stream:features>".utf8)
    private static let success: [UInt8] = Array("<success".utf8)
    private static let failure: [UInt8] = Array("<failure".utf8)
    private static let jidEnd: [UInt8] = Array("</jid>".utf8)
    private static let selfPresenceSingle: [UInt8] = Array("code='110'".utf8)
    private static let selfPresenceDouble: [UInt8] = Array("code=\"110\"".utf8)
    private static let streamError: [UInt8] = Array("<stream:error".utf8)

    init(index: Int, run: BenchRun) {
        self.index = index
        self.run = run
        self.user = "\(run.config.xmppUserPrefix)\(index + 1)"
        self.messagePrefix = Array("<message to='\(run.config.xmppRoom)' type='groupchat'><body>".utf8)
    }

    func attach(context: ChannelHandlerContext) {
        self.context = context
        self.write(self.streamHeader)
    }

    func detach() {
        self.context = nil
        if self.state != .closed {
            let previous = self.state
            self.state = .closed
            if previous == .joined {
                self.run.sessionClosed(self.index, reason: "connection closed")
            } else {
                self.run.sessionFailed(self.index, reason: "connection closed during the XMPP handshake (\(previous))")
            }
        }
    }

    func logIn() {
        guard self.state == .bound else { return }
        self.state = .joining
        self.write(
            "<presence to='\(self.run.config.xmppRoom)/n\(self.index)'><x xmlns='http://jabber.org/protocol/muc'>"
                + "<history maxstanzas='0'/></x></presence>")
    }

    func send(text: [UInt8]) {
        guard let context = self.context, self.state == .joined else { return }
        var buffer = context.channel.allocator.buffer(capacity: self.messagePrefix.count + text.count + 24)
        buffer.writeBytes(self.messagePrefix)
        buffer.writeBytes(text)
        buffer.writeBytes(Self.messageSuffix)
        context.writeAndFlush(NIOAny(buffer), promise: nil)
    }

    func requestHistory(loadedMessages: Int, before: Int64?, amount: Int) {}

    private var streamHeader: String {
        "<?xml version='1.0'?><stream:stream to='\(self.run.config.xmppDomain)' xmlns='jabber:client' "
            + "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
    }

    private func write(_ text: String) {
        guard let context = self.context else { return }
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: text)), promise: nil)
    }

    func receive(_ incoming: ByteBuffer) {
        var buffer: ByteBuffer
        if var pending = self.pending {
            self.pending = nil
            var incoming = incoming
            pending.writeBuffer(&incoming)
            buffer = pending
        } else {
            buffer = incoming
        }
        self.process(&buffer)
        if buffer.readableBytes > 0 {
            buffer.discardReadBytes()
            self.pending = buffer
        }
    }

    private func process(_ buffer: inout ByteBuffer) {
        while true {
            switch self.state {
            case .joined:
                // Everything up to the last '>' holds only complete bodies (a body's digits end before its "</body>").
                guard let last = ByteScan.lastIndex(of: UInt8(ascii: ">"), in: buffer) else { return }
                let complete = buffer.readSlice(length: last + 1)!
                BenchMessage.scan(complete) { sendNanos, sender in
                    self.run.delivered(sendNanos: sendNanos, sender: sender, receiver: self.index)
                }
                if ByteScan.contains(Self.streamError, in: complete) {
                    self.run.sessionClosed(self.index, reason: "stream error: \(String(buffer: complete).suffix(300))")
                }
                return
            case .closed, .bound:
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                return
            case .opening, .restarting:
                guard self.consume(through: Self.featuresEnd, in: &buffer) else { return }
                if self.state == .opening {
                    self.state = .authenticating
                    let credentials = Data("\u{0}\(self.user)\u{0}\(self.run.config.xmppPassword)".utf8).base64EncodedString()
                    self.write("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>\(credentials)</auth>")
                } else {
                    self.state = .binding
                    self.write(
                        "<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                            + "<resource>bench</resource></bind></iq>")
                }
            case .authenticating:
                if ByteScan.contains(Self.failure, in: buffer) {
                    return self.fail("SASL PLAIN refused for \(self.user): \(String(buffer: buffer).prefix(300))")
                }
                guard self.consume(through: Self.success, in: &buffer) else { return }
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                self.state = .restarting
                self.write(self.streamHeader)
            case .binding:
                guard self.consume(through: Self.jidEnd, in: &buffer) else { return }
                self.state = .bound
                self.run.sessionReady(self.index)
            case .joining:
                if ByteScan.contains(Self.streamError, in: buffer) {
                    return self.fail("stream error while joining: \(String(buffer: buffer).prefix(300))")
                }
                let single = ByteScan.find(Self.selfPresenceSingle, in: buffer)
                let marker = single != nil ? Self.selfPresenceSingle : Self.selfPresenceDouble
                guard self.consume(through: marker, in: &buffer) else { return }
                self.state = .joined
                self.run.sessionLoggedIn(self.index)
            }
        }
    }

    /// Skips past the first `needle`, true; or keeps only a tail that could still start one, false.
    private func consume(through needle: [UInt8], in buffer: inout ByteBuffer) -> Bool {
        if let found = ByteScan.find(needle, in: buffer) {
            buffer.moveReaderIndex(forwardBy: found + needle.count)
            return true
        }
        let keep = needle.count - 1
        if buffer.readableBytes > keep { buffer.moveReaderIndex(forwardBy: buffer.readableBytes - keep) }
        return false
    }

    private func fail(_ reason: String) {
        self.state = .closed
        self.run.sessionFailed(self.index, reason: reason)
        self.context?.close(promise: nil)
    }
}
