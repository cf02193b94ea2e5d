import Testing

@testable import CommuneCore

@Suite("Image inspector: caps, whole containers, plausible data")
struct ImageInspectorTests {
    typealias Refusal = ImageInspector.Refusal

    /// `bytes` with `count` bytes at `offset` replaced by `value` (big- or little-endian).
    static func patched(_ bytes: [UInt8], at offset: Int, _ value: Int, count: Int, littleEndian: Bool = false) -> [UInt8] {
        var copy = bytes
        for index in 0..<count {
            let shift = littleEndian ? 8 * index : 8 * (count - 1 - index)
            copy[offset + index] = UInt8((value >> shift) & 0xFF)
        }
        return copy
    }

    /// A PNG of `IHDR` (`width`×`height`, RGBA, 8 bits) and whatever chunks follow, with right CRCs.
    static func png(width: Int, height: Int, chunks: [(String, Int)]) -> [UInt8] {
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        bytes += Self.chunk("IHDR", Self.patched([0, 0, 0, 0, 0, 0, 0, 0], at: 0, width << 32 | height, count: 8) + [8, 6, 0, 0, 0])
        for (type, length) in chunks { bytes += Self.chunk(type, Array(repeating: 0x55, count: length)) }
        return bytes
    }

    /// A PNG chunk: length, type, data and its CRC.
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        var chunk = Self.patched([0, 0, 0, 0], at: 0, data.count, count: 4) + Array(type.utf8) + data + [0, 0, 0, 0]
        Self.fixCRC(&chunk, chunkAt: 0)
        return chunk
    }

    /// Writes the right CRC after the chunk at `offset` of `bytes`.
    static func fixCRC(_ bytes: inout [UInt8], chunkAt offset: Int) {
        let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
        let crc = ImageInspector.crc32(bytes[(offset + 4)..<(offset + 8 + length)])
        bytes = Self.patched(bytes, at: offset + 8 + length, Int(crc), count: 4)
    }

    @Test(
        "real images from real encoders are taken, with their type and size",
        arguments: [
            (ImageFixtures.png, "image/png", 24, 16), (ImageFixtures.jpeg, "image/jpeg", 24, 16), (ImageFixtures.gif, "image/gif", 5, 3),
            (ImageFixtures.webpLossy, "image/webp", 24, 16), (ImageFixtures.webpLossless, "image/webp", 24, 16),
            (ImageFixtures.webpExtended, "image/webp", 24, 16), (ImageFixtures.webpExtendedLossless, "image/webp", 24, 16),
        ]
    )
    func accepted(bytes: [UInt8], type: String, width: Int, height: Int) {
        #expect(ImageInspector.check(bytes) == .success(ImageInspector.Image(type: type, width: width, height: height)))
    }

    @Test("caps: 8,192 pixels a side and 50,000,000 in all; a header-only PNG claiming 16384×16384 is refused")
    func caps() {
        let headerOnly = Array(Self.png(width: 16_384, height: 16_384, chunks: []))
        #expect(ImageInspector.check(headerOnly) == .failure(.tooManyPixels(width: 16_384, height: 16_384)))
        #expect(
            Refusal.tooManyPixels(width: 16_384, height: 16_384).message
                == "The image is 16384×16384 pixels; images may have at most 8192 pixels on each side and 50,000,000 pixels in all."
        )
        #expect(ImageInspector.check(Self.png(width: 8_193, height: 1, chunks: [("IDAT", 100), ("IEND", 0)])) == .failure(.tooManyPixels(width: 8_193, height: 1)))
        #expect(ImageInspector.check(Self.png(width: 8_192, height: 6_104, chunks: [("IDAT", 200_000), ("IEND", 0)])) == .failure(.tooManyPixels(width: 8_192, height: 6_104)))
        let largest = Self.png(width: 8_192, height: 6_103, chunks: [("IDAT", 200_000), ("IEND", 0)])
        #expect(ImageInspector.check(largest) == .success(ImageInspector.Image(type: "image/png", width: 8_192, height: 6_103)))
        let wideGIF = Self.patched(ImageFixtures.gif, at: 6, 9_000, count: 2, littleEndian: true)
        #expect(ImageInspector.check(wideGIF) == .failure(.tooManyPixels(width: 9_000, height: 3)))
    }

    @Test("PNG: IHDR, at least one IDAT, IEND last and nothing after it, and enough IDAT bytes for the size")
    func pngContainer() {
        #expect(ImageInspector.check(Self.png(width: 4_000, height: 4_000, chunks: [])) == .failure(.damaged(format: "PNG", detail: "no IDAT chunk")))
        #expect(ImageInspector.check(Self.png(width: 10, height: 10, chunks: [("IDAT", 20)])) == .failure(.damaged(format: "PNG", detail: "no IEND chunk")))
        #expect(
            ImageInspector.check(Array(ImageFixtures.png.dropLast(12))) == .failure(.damaged(format: "PNG", detail: "no IEND chunk"))
        )
        #expect(ImageInspector.check(ImageFixtures.png + [1, 2, 3]) == .failure(.damaged(format: "PNG", detail: "3 bytes after the IEND chunk")))
        #expect(
            ImageInspector.check(Array(ImageFixtures.png.dropLast(20))) == .failure(.damaged(format: "PNG", detail: "a chunk runs past the end of the file"))
        )
        #expect(ImageInspector.check(Array(ImageFixtures.png.prefix(20))) == .failure(.damaged(format: "PNG", detail: "no IHDR chunk")))
        // The fixture's own IDATs (165 + 6 bytes) under an IHDR that claims 4000×4000: 64 MB of scanlines.
        var claimed = Self.patched(Self.patched(ImageFixtures.png, at: 16, 4_000, count: 4), at: 20, 4_000, count: 4)
        #expect(ImageInspector.check(claimed) == .failure(.damaged(format: "PNG", detail: "the IHDR chunk's CRC is wrong")))
        Self.fixCRC(&claimed, chunkAt: 8)
        #expect(ImageInspector.check(claimed) == .failure(.implausible(format: "PNG", width: 4_000, height: 4_000, dataBytes: 171)))
        // A flipped bit in the image data breaks its chunk's CRC.
        var flipped = ImageFixtures.png
        flipped[60] ^= 0x10
        #expect(ImageInspector.check(flipped) == .failure(.damaged(format: "PNG", detail: "the IDAT chunk's CRC is wrong")))
        #expect(
            Refusal.implausible(format: "PNG", width: 4_000, height: 4_000, dataBytes: 171).message
                == "The PNG image claims 4000×4000 pixels but holds only 171 bytes of image data; it cannot be a whole image of that size."
        )
        // 8192 × 6103 RGBA is 199,989,207 bytes of scanlines, which need 193,788 bytes of IDAT at 1,032:1.
        #expect(
            ImageInspector.check(Self.png(width: 8_192, height: 6_103, chunks: [("IDAT", 100_000), ("IDAT", 93_787), ("IEND", 0)]))
                == .failure(.implausible(format: "PNG", width: 8_192, height: 6_103, dataBytes: 193_787))
        )
        #expect(ImageInspector.inspect(Self.png(width: 8_192, height: 6_103, chunks: [("IDAT", 100_000), ("IDAT", 93_788), ("IEND", 0)])) != nil)
        var badType = ImageFixtures.png
        badType[25] = 7
        #expect(ImageInspector.check(badType) == .failure(.damaged(format: "PNG", detail: "colour type 7 with bit depth 8")))
    }

    @Test("JPEG: a frame, at least one scan, EOI; enough scan data; lossless, hierarchical and arithmetic coding refused")
    func jpegContainer() throws {
        let jpeg = ImageFixtures.jpeg
        #expect(ImageInspector.check(Array(jpeg.dropLast(2))) == .failure(.damaged(format: "JPEG", detail: "no EOI marker")))
        #expect(ImageInspector.check(jpeg + Array(repeating: 0x42, count: 100)) == .success(ImageInspector.Image(type: "image/jpeg", width: 24, height: 16)))
        let sof = try #require((2..<jpeg.count - 1).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        let sos = try #require((2..<jpeg.count - 1).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xDA })
        let scanLength = jpeg.count - 2 - (sos + 2 + (ImageInspector.bigEndian(jpeg, sos + 2, 2) ?? 0))
        let claimed = Self.patched(Self.patched(jpeg, at: sof + 5, 6_000, count: 2), at: sof + 7, 8_000, count: 2)
        #expect(ImageInspector.check(claimed) == .failure(.implausible(format: "JPEG", width: 8_000, height: 6_000, dataBytes: scanLength)))
        #expect(ImageInspector.check(Self.patched(jpeg, at: sof + 5, 9_000, count: 2)) == .failure(.tooManyPixels(width: 24, height: 9_000)))
        #expect(
            ImageInspector.check(Self.patched(jpeg, at: sof + 1, 0xC9, count: 1))
                == .failure(.unsupported(format: "JPEG", detail: "arithmetic-coded, SOF marker 0xC9"))
        )
        #expect(
            Refusal.unsupported(format: "JPEG", detail: "lossless, SOF marker 0xC3").message
                == "This kind of JPEG image cannot be attached (lossless, SOF marker 0xC3)."
        )
        #expect(ImageInspector.check(Array(jpeg.prefix(sof)) + [0xFF, 0xD9]) == .failure(.damaged(format: "JPEG", detail: "no frame header")))
        #expect(ImageInspector.check(Array(jpeg.prefix(sos)) + [0xFF, 0xD9]) == .failure(.damaged(format: "JPEG", detail: "no scan")))
        #expect(ImageInspector.check([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10]) == .failure(.damaged(format: "JPEG", detail: "a segment runs past the end of the file")))
    }

    @Test("GIF: a screen, at least one image with its data, the trailer; enough LZW data for each frame")
    func gifContainer() {
        let gif = ImageFixtures.gif
        #expect(ImageInspector.check(Array(gif.dropLast())) == .failure(.damaged(format: "GIF", detail: "no trailer")))
        #expect(ImageInspector.check(Array(gif.prefix(25)) + [0x3B]) == .failure(.damaged(format: "GIF", detail: "no image")))
        #expect(ImageInspector.check(Array(gif.dropLast(4))) == .failure(.damaged(format: "GIF", detail: "image data runs past the end of the file")))
        // The frame (at byte 25) claims 5000×3000 on a screen of the same size, with the fixture's 5 bytes of LZW data.
        let frame = Self.patched(Self.patched(gif, at: 30, 5_000, count: 2, littleEndian: true), at: 32, 3_000, count: 2, littleEndian: true)
        let claimed = Self.patched(Self.patched(frame, at: 6, 5_000, count: 2, littleEndian: true), at: 8, 3_000, count: 2, littleEndian: true)
        #expect(ImageInspector.check(claimed) == .failure(.implausible(format: "GIF", width: 5_000, height: 3_000, dataBytes: 5)))
        #expect(ImageInspector.check(Array(gif.prefix(8))) == .failure(.damaged(format: "GIF", detail: "no logical screen descriptor")))
    }

    @Test("WebP: the RIFF size is the file's, chunks are whole, image data is there and fits the canvas")
    func webpContainer() {
        let lossy = ImageFixtures.webpLossy
        #expect(
            ImageInspector.check(Array(lossy.dropLast(10)))
                == .failure(.damaged(format: "WebP", detail: "the RIFF size says \(lossy.count) bytes, the file has \(lossy.count - 10)"))
        )
        #expect(
            ImageInspector.check(lossy + [0, 0])
                == .failure(.damaged(format: "WebP", detail: "the RIFF size says \(lossy.count) bytes, the file has \(lossy.count + 2)"))
        )
        let header: [UInt8] = Array("RIFF".utf8) + [30, 0, 0, 0] + Array("WEBPVP8X".utf8) + [10, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0x3F, 0, 0xFF, 0x3F, 0]
        #expect(ImageInspector.check(Self.patched(header, at: 4, 30, count: 4, littleEndian: true) + Array("ALPH".utf8) + [100, 0, 0, 0]) == .failure(.damaged(format: "WebP", detail: "a chunk runs past the end of the file")))
        #expect(
            ImageInspector.check(Self.patched(header, at: 4, 22, count: 4, littleEndian: true)) == .failure(.damaged(format: "WebP", detail: "no image data"))
        )
        // The extended file's canvas (bytes 24…29) made 100×100 around its 24×16 bitstream.
        let canvas = Self.patched(Self.patched(ImageFixtures.webpExtended, at: 24, 99, count: 3, littleEndian: true), at: 27, 99, count: 3, littleEndian: true)
        #expect(ImageInspector.check(canvas) == .failure(.damaged(format: "WebP", detail: "a 24×16 bitstream on a 100×100 canvas")))
        let huge = Self.patched(Self.patched(ImageFixtures.webpLossless, at: 21, (16_383 << 14) | 16_383, count: 4, littleEndian: true), at: 25, 0, count: 0)
        #expect(ImageInspector.check(huge) == .failure(.tooManyPixels(width: 16_384, height: 16_384)))
    }

    @Test("other files are not images", arguments: [[UInt8](), Array("hello".utf8), Array("GIF8".utf8), [0xFF, 0xD8], Array("RIFF\u{0}\u{0}\u{0}\u{0}WAVE".utf8)])
    func notImages(bytes: [UInt8]) {
        #expect(ImageInspector.check(bytes) == .failure(.notAnImage))
        #expect(Refusal.notAnImage.message == "Only PNG, JPEG, GIF and WebP images can be attached (checked by their content).")
    }
}
