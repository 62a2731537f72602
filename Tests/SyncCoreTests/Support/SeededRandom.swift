import Foundation
import SyncCore

/// The project's seeded generator (`SyncCore.SplitMix64`), with the helpers property tests use: the same
/// seed gives the same history on every run and machine, so a failing test replays from its seed.
typealias SeededRandom = SplitMix64

extension SplitMix64 {
    /// An integer in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }

    /// A random element (the collection must not be empty).
    mutating func pick<C: Collection>(_ c: C) -> C.Element { c.randomElement(using: &self)! }

    mutating func shuffle<T>(_ a: [T]) -> [T] { a.shuffled(using: &self) }
}

/// How many property-test histories to run, and from which seeds.
///
/// `swift test` runs the default count from fixed seeds. A long soak sets an environment variable,
/// e.g. `CCHC_SOAK_HISTORIES=100000 swift test -c release --filter RegisterLawTests`; one failing
/// seed replays alone with `CCHC_SEED=<seed> swift test --filter …`.
enum PropertyRuns {
    static func seeds(default count: Int, base: UInt64, soakVariable: String = "CCHC_SOAK_HISTORIES") -> [UInt64] {
        let env = ProcessInfo.processInfo.environment
        if let raw = env["CCHC_SEED"], let seed = UInt64(raw) { return [seed] }
        let n = env[soakVariable].flatMap { Int($0) } ?? count
        let salt = env["CCHC_SOAK_SALT"].flatMap { UInt64($0) } ?? 0
        return (0..<UInt64(max(n, 1))).map { base &+ (salt << 32) &+ $0 }
    }

    /// The seeds split into `parts` slices so Swift Testing can run them in parallel.
    static func slices(_ seeds: [UInt64], parts: Int) -> [[UInt64]] {
        let p = max(1, min(parts, seeds.count))
        return (0..<p).map { i in stride(from: i, to: seeds.count, by: p).map { seeds[$0] } }
    }
}
