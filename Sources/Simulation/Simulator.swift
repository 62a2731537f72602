import Foundation
import SyncCore

/// Runs many histories: history `k` of a run from seed `S` has seed `S + k`, so any one of them
/// replays alone with `--seed S+k --histories 1` (and the same `--steps` and `--replicas`).
public enum Simulator {
    public struct Result: Sendable {
        public var stats = SimStats()
        public var violations: [SimViolation] = []
        public var seconds = 0.0
    }

    /// Runs `histories` histories from `seed`; stops after `maxViolations` failing ones.
    public static func run(
        seed: UInt64, histories: Int, config: SimConfig, maxViolations: Int = 3, progress: (Int, SimStats) -> Void = { _, _ in }
    ) async throws -> Result {
        var result = Result()
        let start = DispatchTime.now().uptimeNanoseconds
        for k in 0..<max(0, histories) {
            let h = try SimHistory(seed: seed &+ UInt64(k), config: config)
            let outcome = await h.run()
            result.stats.add(outcome.stats)
            if let v = outcome.violation {
                result.violations.append(v)
                if result.violations.count >= maxViolations { break }
            }
            progress(k + 1, result.stats)
        }
        result.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return result
    }

    /// A fresh seed from the system's generator (printed, so the run can be replayed).
    public static func freshSeed() -> UInt64 { UInt64.random(in: 0...(UInt64.max >> 1)) }
}
