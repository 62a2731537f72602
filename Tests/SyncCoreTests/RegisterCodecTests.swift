import Foundation
import Testing

@testable import SyncCore

/// The metadata blob codec on its own, without a database: what it writes reads back as the same
/// registers, and damaged bytes are refused as corrupt, never trusted or trapped on.
@Suite("Register codec: round trip and damaged bytes, without a database")
struct RegisterCodecTests {
    static let replicas = (1...6).map { ReplicaID("codec\($0)")! }
    static let origins = OriginTable(Dictionary(uniqueKeysWithValues: replicas.enumerated().map { (Int64($0.offset + 1), $0.element) }))
    static let fieldCount = EntitySchema.fields(.activity).count

    /// Registers as a merge leaves them: random ops (some superseding others, some concurrent)
    /// applied to random fields, with clocks close together and, now and then, far apart.
    static func randomRegisters(_ rng: inout SeededRandom) -> RegisterSet {
        var set = RegisterSet()
        var counters = [UInt64](repeating: 0, count: replicas.count)
        var seen: [Int: [Dot]] = [:]
        let base = UInt64(rng.int(0...(1 << 40)))
        for _ in 0..<rng.int(0...40) {
            let field = rng.int(0...(fieldCount - 1))
            let r = rng.int(0...(replicas.count - 1))
            counters[r] += UInt64(rng.int(1...3))
            let millis = rng.chance(0.9) ? base + UInt64(rng.int(0...86_400_000)) : UInt64(rng.int(0...(1 << 44)))
            let version = Version(
                dot: Dot(replicas[r], counters[r]), hlc: HLC(millis: millis, logical: rng.chance(0.1) ? UInt16(rng.int(1...9)) : 0))
            let known = seen[field] ?? []
            let supersedes = known.filter { _ in rng.chance(0.6) }
            _ = set.update(field) { $0.apply(version, supersedes: supersedes) }
            seen[field, default: []].append(version.dot)
        }
        return set
    }

    static func same(_ a: RegisterSet, _ b: RegisterSet) -> Bool {
        a.entries.map(\.field) == b.entries.map(\.field) && zip(a.entries, b.entries).allSatisfy { $0.register == $1.register }
    }

    @Test("2,000 random register sets read back unchanged")
    func roundTrip() throws {
        for seed in PropertyRuns.seeds(default: 2_000, base: 0xC0DEC) {
            var rng = SeededRandom(seed: seed)
            let registers = Self.randomRegisters(&rng)
            var buffer = VarintWriter()
            try RegisterCodec.encode(registers, origins: Self.origins, into: &buffer)
            let decoded = try RegisterCodec.decode(Data(buffer.bytes), fieldCount: Self.fieldCount, origins: Self.origins)
            #expect(Self.same(registers, decoded), "seed \(seed)")
        }
    }

    @Test("Flipped and cut bytes are refused as corrupt or read as some registers, never a trap")
    func damagedBytes() throws {
        var refused = 0
        for seed in PropertyRuns.seeds(default: 2_000, base: 0xDA4A6E) {
            var rng = SeededRandom(seed: seed)
            let registers = Self.randomRegisters(&rng)
            var buffer = VarintWriter()
            try RegisterCodec.encode(registers, origins: Self.origins, into: &buffer)
            var bytes = buffer.bytes
            guard !bytes.isEmpty else { continue }
            if rng.chance(0.5) {
                bytes.removeLast(rng.int(1...bytes.count))
            } else {
                for _ in 0..<rng.int(1...4) { bytes[rng.int(0...(bytes.count - 1))] ^= UInt8(rng.int(1...255)) }
            }
            do {
                _ = try RegisterCodec.decode(Data(bytes), fieldCount: Self.fieldCount, origins: Self.origins)
            } catch let e as SyncError {
                #expect(e.code == .corrupt, "seed \(seed): \(e.message)")
                refused += 1
            }
        }
        // Most damage must be noticed (a cut inside a value, an unknown origin, a field beyond the kind).
        #expect(refused > 1_000, "only \(refused) of 2,000 damaged blobs refused")
    }

    @Test("An unknown origin or a field beyond the kind is refused, naming the damage")
    func namedRefusals() throws {
        var buffer = VarintWriter()
        // One register on field 0 with one survivor of origin index 99 (not interned).
        buffer.write(UInt64(0 << 4 | 1 << 2))
        buffer.write(Int64(99))
        buffer.write(UInt64(1))
        buffer.write(Int64(5))
        #expect(throws: SyncError.self) { try RegisterCodec.decode(Data(buffer.bytes), fieldCount: Self.fieldCount, origins: Self.origins) }
        do {
            _ = try RegisterCodec.decode(Data(buffer.bytes), fieldCount: Self.fieldCount, origins: Self.origins)
        } catch let e as SyncError {
            #expect(e.code == .corrupt && e.message.contains("bản sao không tồn tại"), "\(e.message)")
        }
        buffer.reset()
        buffer.write(UInt64(Self.fieldCount) << 4)
        do {
            _ = try RegisterCodec.decode(Data(buffer.bytes), fieldCount: Self.fieldCount, origins: Self.origins)
            Issue.record("a field beyond the kind was accepted")
        } catch let e as SyncError {
            #expect(e.code == .corrupt && e.message.contains("trường không tồn tại"), "\(e.message)")
        }
    }
}
