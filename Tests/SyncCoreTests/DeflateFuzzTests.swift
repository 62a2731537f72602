import Foundation
import Testing

@testable import SyncCore

/// The compression of sync bodies and bundles under damage: random cuts, flipped, inserted and
/// appended bytes of real compressed bodies. Every damaged input is refused with a named error or
/// decodes to exactly the original; nothing reads past its buffer (run this suite with
/// `swift test --sanitize=address --filter DeflateFuzzTests` to have AddressSanitizer check that).
@Suite("Deflate under damage: cut, flipped, inserted bytes (seeded; replay with CCHC_SEED)")
struct DeflateFuzzTests {
    /// Inputs like the ones that travel: wire bodies (varints, short strings, Vietnamese text),
    /// random bytes that do not compress, long runs that compress a lot, and the edge sizes.
    static func input(_ rng: inout SeededRandom) -> Data {
        switch rng.int(0...5) {
        case 0: return Data()
        case 1: return Data([UInt8(rng.int(0...255))])
        case 2:
            // Little compresses: the stored-block paths. rng.next() gives 8 bytes at a time.
            var bytes: [UInt8] = []
            for _ in 0..<rng.int(1...1_200) { withUnsafeBytes(of: rng.next()) { bytes += $0 } }
            return Data(bytes)
        case 3: return Data(repeating: UInt8(rng.int(0...255)), count: rng.int(1...100_000))
        default:
            let words = ["Phát", "tờ", "rơi", "cửa khẩu", "Hữu Nghị", "HD.TTQLCK.a1b2c3d4.", "ND05", "HT04", "2026-02-10", "\u{1}\u{7}"]
            var s = ""
            for _ in 0..<rng.int(1...600) { s += rng.pick(words) + String(rng.int(0...999)) + " " }
            return Data(s.utf8)
        }
    }

    static func damage(_ data: Data, _ rng: inout SeededRandom) -> Data {
        var bytes = [UInt8](data)
        switch rng.int(0...3) {
        case 0:
            bytes.removeLast(rng.int(1...bytes.count))
        case 1:
            for _ in 0..<rng.int(1...8) { bytes[rng.int(0...(bytes.count - 1))] ^= UInt8(rng.int(1...255)) }
        case 2:
            bytes.insert(contentsOf: (0..<rng.int(1...16)).map { _ in UInt8(rng.int(0...255)) }, at: rng.int(0...bytes.count))
        default:
            let cut = rng.int(0...(bytes.count - 1))
            bytes = Array(bytes[..<cut]) + (0..<rng.int(1...64)).map { _ in UInt8(rng.int(0...255)) }
        }
        return Data(bytes)
    }

    @Test("3,000 damaged bodies per run: refused as corrupt or too large, or the original exactly")
    func damagedBodies() throws {
        var refused = 0
        let seeds = PropertyRuns.seeds(default: 3_000, base: UInt64(Date().timeIntervalSince1970 * 1000) << 12)
        if let first = seeds.first { print("DeflateFuzzTests: seeds \(first)… (\(seeds.count)); replay one with CCHC_SEED=<seed>") }
        for seed in seeds {
            var rng = SeededRandom(seed: seed)
            let original = Self.input(&rng)
            let body = try Deflate.compress(original)
            #expect(try Deflate.decompress(body, limit: 1 << 24) == original, "seed \(seed): round trip")
            let damaged = Self.damage(body, &rng)
            do {
                let decoded = try Deflate.decompress(damaged, limit: 1 << 24)
                #expect(decoded == original, "seed \(seed): damaged input decoded to other bytes")
            } catch let e as SyncError {
                #expect(e.code == .corrupt || e.code == .invalidInput, "seed \(seed): \(e.code) \(e.message)")
                refused += 1
            }
        }
        #expect(refused > seeds.count * 9 / 10 || seeds.count < 100, "only \(refused) of \(seeds.count) damaged bodies refused")
    }

    @Test("The output limit holds: one byte short of the original is refused, naming the body")
    func outputLimit() throws {
        var rng = SeededRandom(seed: 7)
        for _ in 0..<50 {
            let original = Self.input(&rng)
            guard !original.isEmpty else { continue }
            let body = try Deflate.compress(original)
            #expect(throws: SyncError.self) { try Deflate.decompress(body, limit: original.count - 1) }
            #expect(try Deflate.decompress(body, limit: original.count) == original)
        }
    }

    @Test("Bytes after the end of the stream and bodies shorter than the trailer are refused")
    func trailingAndShort() throws {
        let body = try Deflate.compress(Data("Phát tờ rơi tại cửa khẩu Hữu Nghị".utf8))
        var longer = [UInt8](body.dropLast(4))
        longer.append(0)
        longer += body.suffix(4)
        #expect(throws: SyncError.self) { try Deflate.decompress(Data(longer), limit: 1 << 20) }
        for n in 0..<4 { #expect(throws: SyncError.self) { try Deflate.decompress(Data(body.prefix(n)), limit: 1 << 20) } }
    }

    /// Inflates `body` with the streaming `Inflater`, fed in pieces of random sizes (1 byte up to
    /// a few KiB) and read out in pieces of random sizes.
    static func inflateStreaming(_ body: Data, limit: Int, _ rng: inout SeededRandom) throws -> Data {
        var offset = 0
        let feed = rng.int(1...4_096)
        let inflater = try Deflate.Inflater(limit: limit, chunk: feed) { buffer in
            let n = min(buffer.count, body.count - offset)
            body.withUnsafeBytes { source in
                if n > 0 { buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: n) }
            }
            offset += n
            return n
        }
        var out: [UInt8] = []
        var piece = [UInt8](repeating: 0, count: rng.int(1...70_000))
        while true {
            let n = try piece.withUnsafeMutableBytes { try inflater.read(into: $0) }
            if n == 0 { break }
            out += piece[0..<n]
        }
        return Data(out)
    }

    @Test("Streaming: 3,000 damaged bodies per run through Inflater in random pieces — the same verdict as decompress")
    func damagedBodiesStreaming() throws {
        var refused = 0
        let seeds = PropertyRuns.seeds(default: 3_000, base: UInt64(Date().timeIntervalSince1970 * 1000) << 12 ^ 0x5EED)
        if let first = seeds.first { print("DeflateFuzzTests (streaming): seeds \(first)… (\(seeds.count)); replay one with CCHC_SEED=<seed>") }
        for seed in seeds {
            var rng = SeededRandom(seed: seed)
            let original = Self.input(&rng)
            let body = try Deflate.compress(original)
            #expect(try Self.inflateStreaming(body, limit: 1 << 24, &rng) == original, "seed \(seed): round trip")
            let damaged = Self.damage(body, &rng)
            let whole = Result { try Deflate.decompress(damaged, limit: 1 << 24) }
            do {
                let decoded = try Self.inflateStreaming(damaged, limit: 1 << 24, &rng)
                #expect(decoded == original, "seed \(seed): damaged input decoded to other bytes")
                #expect((try? whole.get()) == decoded, "seed \(seed): decompress refused what Inflater accepted")
            } catch let e as SyncError {
                #expect(e.code == .corrupt || e.code == .invalidInput, "seed \(seed): \(e.code) \(e.message)")
                #expect((try? whole.get()) == nil, "seed \(seed): Inflater refused what decompress accepted: \(e.message)")
                refused += 1
            }
        }
        #expect(refused > seeds.count * 9 / 10 || seeds.count < 100, "only \(refused) of \(seeds.count) damaged bodies refused")
    }

    @Test("Streaming: Deflater written in random pieces inflates to the input, whole and streaming; the limit holds")
    func deflaterRoundTrip() throws {
        var rng = SeededRandom(seed: 20_261_201)
        for _ in 0..<300 {
            let original = [UInt8](Self.input(&rng))
            var out: [UInt8] = []
            let deflater = try Deflate.Deflater { out += $0 }
            var offset = 0
            while offset < original.count {
                let n = min(original.count - offset, rng.int(1...20_000))
                try deflater.write(Array(original[offset..<(offset + n)]))
                offset += n
            }
            try deflater.finish()
            #expect(try Deflate.decompress(Data(out), limit: 1 << 24) == Data(original))
            #expect(try Self.inflateStreaming(Data(out), limit: 1 << 24, &rng) == Data(original))
            if !original.isEmpty {
                #expect(throws: SyncError.self) { try Self.inflateStreaming(Data(out), limit: original.count - 1, &rng) }
            }
        }
    }
}
