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
}
