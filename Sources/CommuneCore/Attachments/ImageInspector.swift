/// Recognises the image formats Commune accepts by their bytes, never by a file name, and reads their size.
///
/// Seed 002 lets messages carry images; only PNG, JPEG, GIF and WebP are taken, and a file is taken only when its
/// header parses as one of them with a plausible size. Nothing is decoded beyond the header.
public enum ImageInspector {
    public struct Image: Sendable, Hashable {
        /// The MIME type: `image/png`, `image/jpeg`, `image/gif` or `image/webp`.
        public var type: String
        public var width: Int
        public var height: Int
    }

    /// The largest width or height accepted.
    public static let maxDimension = 16_384

    /// The image in `bytes`, or `nil` when they are not a PNG, JPEG, GIF or WebP image with a readable size.
    public static func inspect(_ bytes: [UInt8]) -> Image? {
        guard let image = self.png(bytes) ?? self.gif(bytes) ?? self.jpeg(bytes) ?? self.webp(bytes) else { return nil }
        guard (1...self.maxDimension).contains(image.width), (1...self.maxDimension).contains(image.height) else { return nil }
        return image
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
        offset + prefix.count <= bytes.count && Array(bytes[offset..<offset + prefix.count]) == prefix
    }

    /// PNG: the signature, then the IHDR chunk with the size as two big-endian 32-bit numbers.
    static func png(_ bytes: [UInt8]) -> Image? {
        guard self.starts(bytes, with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), self.starts(bytes, with: Array("IHDR".utf8), at: 12),
            let width = self.bigEndian(bytes, 16, 4), let height = self.bigEndian(bytes, 20, 4)
        else { return nil }
        return Image(type: "image/png", width: width, height: height)
    }

    /// GIF: `GIF87a` or `GIF89a`, then the logical screen size as little-endian 16-bit numbers.
    static func gif(_ bytes: [UInt8]) -> Image? {
        guard self.starts(bytes, with: Array("GIF87a".utf8)) || self.starts(bytes, with: Array("GIF89a".utf8)),
            let width = self.littleEndian(bytes, 6, 2), let height = self.littleEndian(bytes, 8, 2)
        else { return nil }
        return Image(type: "image/gif", width: width, height: height)
    }

    /// JPEG: walks the marker segments to the first start-of-frame, which holds the size.
    static func jpeg(_ bytes: [UInt8]) -> Image? {
        guard self.starts(bytes, with: [0xFF, 0xD8]) else { return nil }
        var index = 2
        var segments = 0
        while index + 1 < bytes.count, segments < 1_000 {
            segments += 1
            guard bytes[index] == 0xFF else { return nil }
            let marker = bytes[index + 1]
            if marker == 0xFF {
                index += 1
                continue
            }
            if marker == 0x01 || (0xD0...0xD8).contains(marker) {
                index += 2
                continue
            }
            guard let length = self.bigEndian(bytes, index + 2, 2), length >= 2 else { return nil }
            let isFrame = (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
            if isFrame {
                guard let height = self.bigEndian(bytes, index + 5, 2), let width = self.bigEndian(bytes, index + 7, 2) else { return nil }
                return Image(type: "image/jpeg", width: width, height: height)
            }
            index += 2 + length
        }
        return nil
    }

    /// WebP: a RIFF container of type WEBP whose first chunk is lossy (`VP8 `), lossless (`VP8L`) or extended (`VP8X`).
    static func webp(_ bytes: [UInt8]) -> Image? {
        guard self.starts(bytes, with: Array("RIFF".utf8)), self.starts(bytes, with: Array("WEBP".utf8), at: 8) else { return nil }
        if self.starts(bytes, with: Array("VP8 ".utf8), at: 12) {
            guard self.starts(bytes, with: [0x9D, 0x01, 0x2A], at: 23), let width = self.littleEndian(bytes, 26, 2),
                let height = self.littleEndian(bytes, 28, 2)
            else { return nil }
            return Image(type: "image/webp", width: width & 0x3FFF, height: height & 0x3FFF)
        }
        if self.starts(bytes, with: Array("VP8L".utf8), at: 12) {
            guard bytes.count > 24, bytes[20] == 0x2F, let bits = self.littleEndian(bytes, 21, 4) else { return nil }
            return Image(type: "image/webp", width: (bits & 0x3FFF) + 1, height: ((bits >> 14) & 0x3FFF) + 1)
        }
        if self.starts(bytes, with: Array("VP8X".utf8), at: 12) {
            guard let width = self.littleEndian(bytes, 24, 3), let height = self.littleEndian(bytes, 27, 3) else { return nil }
            return Image(type: "image/webp", width: width + 1, height: height + 1)
        }
        return nil
    }
}
