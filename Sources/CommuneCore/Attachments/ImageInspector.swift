/// Recognises the image formats Commune accepts by their bytes, never by a file name, reads their size, and checks
/// that the file really is a whole image of that size.
///
/// Seed 002 lets messages carry images; only PNG, JPEG, GIF and WebP are taken. Nothing is decoded, but the
/// container is walked to its end: a file is taken only when
/// - its width and height are 1 to ``maxDimension`` and their product at most ``maxPixels``;
/// - its container is complete: PNG `IHDR`, at least one `IDAT`, `IEND` last (nothing after it), every chunk's CRC right; JPEG SOI, a
///   baseline, extended or progressive frame, at least one scan, EOI; GIF a screen, at least one image, the
///   trailer; WebP a RIFF size that matches the file, whole chunks, and image data in them;
/// - it holds enough compressed image data for its declared size: at least one byte per ``pngPixelsPerByte``
///   bytes of raw PNG scanlines (deflate compresses by 1,032:1 at most), one per ``gifPixelsPerByte`` pixels of each
///   GIF frame (LZW's best case), one per ``jpegPixelsPerByte`` pixels of a JPEG's scans (a Huffman-coded 8×8 block
///   costs at least a bit). WebP's coders (lossless with one-symbol codes, lossy with arithmetic coding) can
///   describe a plain image in a few bytes, so for WebP only the caps and the container are checked.
public enum ImageInspector {
    public struct Image: Sendable, Hashable {
        /// The MIME type: `image/png`, `image/jpeg`, `image/gif` or `image/webp`.
        public var type: String
        public var width: Int
        public var height: Int
    }

    /// Why a file is refused; ``message`` is the `invalid_argument` text the uploader gets.
    public enum Refusal: Error, Sendable, Hashable {
        /// Not a PNG, JPEG, GIF or WebP file.
        case notAnImage
        /// Wider or higher than ``maxDimension``, or more than ``maxPixels`` in all.
        case tooManyPixels(width: Int, height: Int)
        /// The container is cut short or malformed.
        case damaged(format: String, detail: String)
        /// Far less image data than the declared size needs.
        case implausible(format: String, width: Int, height: Int, dataBytes: Int)
        /// A variant browsers do not show (a lossless, hierarchical or arithmetic-coded JPEG).
        case unsupported(format: String, detail: String)

        public var message: String {
            switch self {
            case .notAnImage:
                return "Only PNG, JPEG, GIF and WebP images can be attached (checked by their content)."
            case .tooManyPixels(let width, let height):
                return "The image is \(width)×\(height) pixels; images may have at most \(ImageInspector.maxDimension) pixels on each side "
                    + "and 50,000,000 pixels in all."
            case .damaged(let format, let detail):
                return "The \(format) image is incomplete or damaged (\(detail))."
            case .implausible(let format, let width, let height, let dataBytes):
                return "The \(format) image claims \(width)×\(height) pixels but holds only \(dataBytes) bytes of image data; "
                    + "it cannot be a whole image of that size."
            case .unsupported(let format, let detail):
                return "This kind of \(format) image cannot be attached (\(detail))."
            }
        }
    }

    /// The largest width or height accepted.
    public static let maxDimension = 8_192
    /// The most pixels accepted (width × height): 50 megapixels, a phone camera's largest photos; about 200 MB once
    /// decoded by a browser.
    public static let maxPixels = 50_000_000
    /// Deflate's best ratio is 1,032:1; a little slack for zlib's header.
    static let pngPixelsPerByte = 1_032
    /// LZW with 12-bit codes covers at most about 4,096 pixels per code.
    static let gifPixelsPerByte = 2_730
    /// At least one bit per 8×8 block of a Huffman-coded JPEG scan.
    static let jpegPixelsPerByte = 512

    /// The image in `bytes`, or `nil` when ``check(_:)`` refuses it.
    public static func inspect(_ bytes: [UInt8]) -> Image? {
        try? self.check(bytes).get()
    }

    /// The image in `bytes`, or why it is refused.
    public static func check(_ bytes: [UInt8]) -> Result<Image, Refusal> {
        let result: Result<Image, Refusal>
        if self.starts(bytes, with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            result = self.png(bytes)
        } else if self.starts(bytes, with: Array("GIF87a".utf8)) || self.starts(bytes, with: Array("GIF89a".utf8)) {
            result = self.gif(bytes)
        } else if self.starts(bytes, with: [0xFF, 0xD8, 0xFF]) {
            result = self.jpeg(bytes)
        } else if self.starts(bytes, with: Array("RIFF".utf8)), self.starts(bytes, with: Array("WEBP".utf8), at: 8) {
            result = self.webp(bytes)
        } else {
            result = .failure(.notAnImage)
        }
        return result
    }

    /// Refuses a size outside the caps.
    static func capped(_ image: Image) -> Result<Image, Refusal> {
        guard image.width >= 1, image.height >= 1 else {
            return .failure(.damaged(format: self.formatName(image.type), detail: "a width or height of 0"))
        }
        guard image.width <= self.maxDimension, image.height <= self.maxDimension, image.width * image.height <= self.maxPixels else {
            return .failure(.tooManyPixels(width: image.width, height: image.height))
        }
        return .success(image)
    }

    static func formatName(_ type: String) -> String {
        switch type {
        case "image/png": "PNG"
        case "image/gif": "GIF"
        case "image/jpeg": "JPEG"
        default: "WebP"
        }
    }

    static func bigEndian(_ bytes: [UInt8], _ offset: Int, _ count: Int) -> Int? {
        guard offset >= 0, offset + count <= bytes.count else { return nil }
        return bytes[offset..<offset + count].reduce(0) { $0 << 8 | Int($1) }
    }

    static func littleEndian(_ bytes: [UInt8], _ offset: Int, _ count: Int) -> Int? {
        guard offset >= 0, offset + count <= bytes.count else { return nil }
        return bytes[offset..<offset + count].reversed().reduce(0) { $0 << 8 | Int($1) }
    }

    static func starts(_ bytes: [UInt8], with prefix: [UInt8], at offset: Int = 0) -> Bool {
        offset >= 0 && offset + prefix.count <= bytes.count && bytes[offset..<offset + prefix.count].elementsEqual(prefix)
    }

    // MARK: PNG

    /// PNG: `IHDR` first (size, bit depth, colour type), then chunks to `IEND`, which must end the file, each with
    /// its CRC right; the `IDAT` bytes must be enough for the raw scanlines at deflate's best ratio.
    static func png(_ bytes: [UInt8]) -> Result<Image, Refusal> {
        let damaged = { (detail: String) in Result<Image, Refusal>.failure(.damaged(format: "PNG", detail: detail)) }
        guard self.bigEndian(bytes, 8, 4) == 13, self.starts(bytes, with: Array("IHDR".utf8), at: 12),
            let width = self.bigEndian(bytes, 16, 4), let height = self.bigEndian(bytes, 20, 4), bytes.count >= 33
        else { return damaged("no IHDR chunk") }
        let image = Image(type: "image/png", width: width, height: height)
        if case .failure(let refusal) = self.capped(image) { return .failure(refusal) }
        let depth = Int(bytes[24])
        let samples: Int
        switch (bytes[25], depth) {
        case (0, 1), (0, 2), (0, 4), (0, 8), (0, 16): samples = 1  // grey
        case (2, 8), (2, 16): samples = 3  // RGB
        case (3, 1), (3, 2), (3, 4), (3, 8): samples = 1  // palette
        case (4, 8), (4, 16): samples = 2  // grey + alpha
        case (6, 8), (6, 16): samples = 4  // RGBA
        default: return damaged("colour type \(bytes[25]) with bit depth \(depth)")
        }
        guard self.pngCRCMatches(bytes, chunkAt: 8, length: 13) else { return damaged("the IHDR chunk's CRC is wrong") }
        var offset = 33
        var idatBytes = 0
        var sawIDAT = false
        var sawIEND = false
        while offset < bytes.count {
            guard let length = self.bigEndian(bytes, offset, 4), length <= Int(Int32.max), offset + 12 + length <= bytes.count else {
                return damaged("a chunk runs past the end of the file")
            }
            let type = Array(bytes[offset + 4..<offset + 8])
            guard self.pngCRCMatches(bytes, chunkAt: offset, length: length) else {
                return damaged("the \(String(decoding: type.map { $0 < 0x20 || $0 > 0x7E ? UInt8(ascii: "?") : $0 }, as: UTF8.self)) chunk's CRC is wrong")
            }
            if type == Array("IDAT".utf8) {
                idatBytes += length
                sawIDAT = true
            } else if type == Array("IHDR".utf8) {
                return damaged("a second IHDR chunk")
            }
            offset += 12 + length
            if type == Array("IEND".utf8) {
                sawIEND = true
                break
            }
        }
        guard sawIDAT else { return damaged("no IDAT chunk") }
        guard sawIEND else { return damaged("no IEND chunk") }
        guard offset == bytes.count else { return damaged("\(bytes.count - offset) bytes after the IEND chunk") }
        let rawBytes = height * (1 + (width * samples * depth + 7) / 8)
        guard idatBytes * self.pngPixelsPerByte >= rawBytes else {
            return .failure(.implausible(format: "PNG", width: width, height: height, dataBytes: idatBytes))
        }
        return .success(image)
    }

    /// Whether the CRC after the chunk at `offset` (length, type, `length` data bytes, CRC) is the CRC-32 of its
    /// type and data. The caller has checked that the chunk lies within `bytes`.
    static func pngCRCMatches(_ bytes: [UInt8], chunkAt offset: Int, length: Int) -> Bool {
        self.bigEndian(bytes, offset + 8 + length, 4) == Int(self.crc32(bytes[(offset + 4)..<(offset + 8 + length)]))
    }

    /// CRC-32 (ISO 3309, as PNG and zlib use it) of `bytes`.
    public static func crc32(_ bytes: some Collection<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = Self.crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    private static let crcTable: [UInt32] = (0..<256).map { (index: UInt32) in
        var value = index
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    // MARK: GIF

    /// GIF: the logical screen, then extensions and images (each with its LZW data in sub-blocks) up to the trailer.
    static func gif(_ bytes: [UInt8]) -> Result<Image, Refusal> {
        let damaged = { (detail: String) in Result<Image, Refusal>.failure(.damaged(format: "GIF", detail: detail)) }
        guard let width = self.littleEndian(bytes, 6, 2), let height = self.littleEndian(bytes, 8, 2), bytes.count > 10 else {
            return damaged("no logical screen descriptor")
        }
        let image = Image(type: "image/gif", width: width, height: height)
        if case .failure(let refusal) = self.capped(image) { return .failure(refusal) }
        var offset = 13
        if bytes[10] & 0x80 != 0 { offset += 3 << (Int(bytes[10] & 0x07) + 1) }
        var frames = 0
        /// Skips a run of sub-blocks; the bytes they hold, or `nil` when they run past the end.
        func subBlocks() -> Int? {
            var total = 0
            while offset < bytes.count {
                let size = Int(bytes[offset])
                offset += 1 + size
                if size == 0 { return offset <= bytes.count ? total : nil }
                total += size
            }
            return nil
        }
        while true {
            guard offset < bytes.count else { return damaged("no trailer") }
            switch bytes[offset] {
            case 0x3B:
                guard frames > 0 else { return damaged("no image") }
                return .success(image)
            case 0x21:
                offset += 2
                guard subBlocks() != nil else { return damaged("an extension runs past the end of the file") }
            case 0x2C:
                guard let frameWidth = self.littleEndian(bytes, offset + 5, 2), let frameHeight = self.littleEndian(bytes, offset + 7, 2),
                    offset + 10 < bytes.count
                else { return damaged("an image descriptor runs past the end of the file") }
                let flags = bytes[offset + 9]
                offset += 10
                if flags & 0x80 != 0 { offset += 3 << (Int(flags & 0x07) + 1) }
                guard offset < bytes.count, (2...8).contains(bytes[offset]) else { return damaged("no LZW code size") }
                offset += 1
                guard let data = subBlocks() else { return damaged("image data runs past the end of the file") }
                guard data * self.gifPixelsPerByte >= frameWidth * frameHeight, data > 0 else {
                    return .failure(.implausible(format: "GIF", width: frameWidth, height: frameHeight, dataBytes: data))
                }
                frames += 1
            default:
                return damaged("an unknown block 0x\(String(bytes[offset], radix: 16, uppercase: true))")
            }
        }
    }

    // MARK: JPEG

    /// JPEG: marker segments from SOI; a baseline (SOF0), extended (SOF1) or progressive (SOF2) frame with the size;
    /// each scan's entropy-coded bytes up to the next marker; EOI. Bytes after EOI are allowed (cameras append
    /// further pictures there).
    static func jpeg(_ bytes: [UInt8]) -> Result<Image, Refusal> {
        let damaged = { (detail: String) in Result<Image, Refusal>.failure(.damaged(format: "JPEG", detail: detail)) }
        var image: Image?
        var scanBytes = 0
        var scans = 0
        var index = 2
        while index + 1 < bytes.count {
            guard bytes[index] == 0xFF else { return damaged("no marker at byte \(index)") }
            let marker = bytes[index + 1]
            switch marker {
            case 0xFF:
                index += 1  // fill byte
                continue
            case 0x01, 0xD0...0xD7:
                index += 2
                continue
            case 0xD8:
                return damaged("a second SOI marker")
            case 0xD9:
                guard let image else { return damaged("no frame header") }
                guard scans > 0 else { return damaged("no scan") }
                guard scanBytes * self.jpegPixelsPerByte >= image.width * image.height else {
                    return .failure(.implausible(format: "JPEG", width: image.width, height: image.height, dataBytes: scanBytes))
                }
                return .success(image)
            default:
                break
            }
            guard let length = self.bigEndian(bytes, index + 2, 2), length >= 2, index + 2 + length <= bytes.count else {
                return damaged("a segment runs past the end of the file")
            }
            switch marker {
            case 0xC0, 0xC1, 0xC2:
                guard image == nil else { return damaged("a second frame header") }
                guard length >= 8, let height = self.bigEndian(bytes, index + 5, 2), let width = self.bigEndian(bytes, index + 7, 2) else {
                    return damaged("a short frame header")
                }
                let found = Image(type: "image/jpeg", width: width, height: height)
                if case .failure(let refusal) = self.capped(found) { return .failure(refusal) }
                image = found
            case 0xC3, 0xC5...0xC7, 0xC9...0xCB, 0xCD...0xCF:
                let kind = marker >= 0xC9 ? "arithmetic-coded" : (marker == 0xC3 ? "lossless" : "hierarchical")
                return .failure(.unsupported(format: "JPEG", detail: "\(kind), SOF marker 0x\(String(marker, radix: 16, uppercase: true))"))
            case 0xDA:
                guard image != nil else { return damaged("a scan before the frame header") }
                index += 2 + length
                // Entropy-coded data up to the next marker that is not a stuffed 0x00, a restart or a fill byte.
                let start = index
                while index + 1 < bytes.count {
                    if bytes[index] == 0xFF, bytes[index + 1] != 0x00, !(0xD0...0xD7).contains(bytes[index + 1]), bytes[index + 1] != 0xFF {
                        break
                    }
                    index += 1
                }
                guard index + 1 < bytes.count else { return damaged("no EOI marker") }
                scanBytes += index - start
                scans += 1
                continue
            default:
                break
            }
            index += 2 + length
        }
        return damaged("no EOI marker")
    }

    // MARK: WebP

    /// WebP: the RIFF size must be the file's; chunks must be whole; a simple file's first chunk is lossy (`VP8 `) or
    /// lossless (`VP8L`) image data, an extended one (`VP8X`) needs such a chunk or an animation frame after it.
    static func webp(_ bytes: [UInt8]) -> Result<Image, Refusal> {
        let damaged = { (detail: String) in Result<Image, Refusal>.failure(.damaged(format: "WebP", detail: detail)) }
        guard let riffSize = self.littleEndian(bytes, 4, 4), riffSize + 8 == bytes.count || riffSize + 9 == bytes.count && riffSize % 2 == 1 else {
            return damaged("the RIFF size says \((self.littleEndian(bytes, 4, 4) ?? 0) + 8) bytes, the file has \(bytes.count)")
        }
        var chunks: [(type: String, offset: Int, size: Int)] = []
        var offset = 12
        while offset + 8 <= riffSize + 8 {
            guard let size = self.littleEndian(bytes, offset + 4, 4), offset + 8 + size <= bytes.count else {
                return damaged("a chunk runs past the end of the file")
            }
            chunks.append((String(decoding: bytes[offset..<offset + 4], as: UTF8.self), offset + 8, size))
            offset += 8 + size + size % 2
        }
        guard offset >= riffSize + 8 else { return damaged("a chunk runs past the end of the file") }
        guard let first = chunks.first else { return damaged("no chunks") }
        let image: Image
        switch first.type {
        case "VP8 ", "VP8L":
            guard let found = self.vp8(bytes, chunk: first) else { return damaged("a short \(first.type.trimmingSpaces) header") }
            image = found
        case "VP8X":
            guard first.size >= 10, let width = self.littleEndian(bytes, first.offset + 4, 3), let height = self.littleEndian(bytes, first.offset + 7, 3) else {
                return damaged("a short VP8X header")
            }
            image = Image(type: "image/webp", width: width + 1, height: height + 1)
            let animated = bytes[first.offset] & 0x02 != 0
            if animated {
                guard chunks.contains(where: { $0.type == "ANMF" && $0.size > 16 }) else { return damaged("an animation without frames") }
            } else {
                guard let data = chunks.dropFirst().first(where: { $0.type == "VP8 " || $0.type == "VP8L" }) else {
                    return damaged("no image data")
                }
                guard let inner = self.vp8(bytes, chunk: data) else { return damaged("a short \(data.type.trimmingSpaces) header") }
                guard inner.width == image.width, inner.height == image.height else {
                    return damaged("a \(inner.width)×\(inner.height) bitstream on a \(image.width)×\(image.height) canvas")
                }
            }
        default:
            return damaged("a first chunk '\(first.type.trimmingSpaces)'")
        }
        return self.capped(image)
    }

    /// The size in a lossy (`VP8 `: key frame, start code) or lossless (`VP8L`: signature 0x2F) bitstream chunk that
    /// holds more than its header.
    static func vp8(_ bytes: [UInt8], chunk: (type: String, offset: Int, size: Int)) -> Image? {
        let start = chunk.offset
        if chunk.type == "VP8 " {
            guard chunk.size > 10, bytes[start] & 0x01 == 0, self.starts(bytes, with: [0x9D, 0x01, 0x2A], at: start + 3),
                let width = self.littleEndian(bytes, start + 6, 2), let height = self.littleEndian(bytes, start + 8, 2)
            else { return nil }
            return Image(type: "image/webp", width: width & 0x3FFF, height: height & 0x3FFF)
        }
        guard chunk.size > 5, bytes[start] == 0x2F, let bits = self.littleEndian(bytes, start + 1, 4) else { return nil }
        return Image(type: "image/webp", width: (bits & 0x3FFF) + 1, height: ((bits >> 14) & 0x3FFF) + 1)
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var text = Substring(self)
        while text.last == " " { text.removeLast() }
        return String(text)
    }
}
