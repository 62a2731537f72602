import Foundation
import SyncCore

/// Runs many histories: history `k` of a run from seed `S` has seed `S + k`, so any one of them
/// replays alone with `--seed S+k --histories 1` (and the same `--steps` and `--replicas`).
public enum Simulator {
    public struct Result: Sendable {
        public var stats = SimStats()
        public var violations: [SimViolation] = []
        /// Each history's `SimOutcome.digest`, in history order.
        public var digests: [UInt64] = []
        public var seconds = 0.0
        /// One fingerprint of the whole run (every history's digest, in order), in hex: two runs
        /// of one seed with the same options print the same.
        public var digest: String {
            var d = TraceDigest()
            for x in digests { d.add(String(x, radix: 16)) }
            return String(format: "%016llx", d.value)
        }
    }

    /// Runs `histories` histories from `seed`, `jobs` at a time (each history is sequential and
    /// alone with its files, so running several at once changes none of them); stops after
    /// `maxViolations` failing ones.
    public static func run(
        seed: UInt64, histories: Int, config: SimConfig, jobs: Int = 1, maxViolations: Int = 3,
        progress: @escaping (Int, SimStats) -> Void = { _, _ in }
    ) async throws -> Result {
        var result = Result()
        let start = DispatchTime.now().uptimeNanoseconds
        let total = max(0, histories)
        var next = 0
        var done = 0
        var outcomes: [Int: SimOutcome] = [:]
        // Before any store opens: a connection keeps the VFS it was opened with.
        if config.ioErrors { try FaultyDisk.install() }
        try await withThrowingTaskGroup(of: (Int, SimOutcome).self) { group in
            func launch() throws {
                let k = next
                next += 1
                let h = try SimHistory(seed: seed &+ UInt64(k), config: config)
                group.addTask { (k, await h.run()) }
            }
            while next < min(total, max(1, jobs)) { try launch() }
            while let (k, outcome) = try await group.next() {
                outcomes[k] = outcome
                // Totals and violations in history order, whatever order they finished in.
                while let o = outcomes.removeValue(forKey: done) {
                    done += 1
                    result.stats.add(o.stats)
                    result.digests.append(o.digest)
                    if let v = o.violation { result.violations.append(v) }
                    progress(done, result.stats)
                }
                if result.violations.count >= maxViolations {
                    group.cancelAll()
                    break
                }
                if next < total { try launch() }
            }
        }
        result.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return result
    }

    /// A fresh seed from the system's generator (printed, so the run can be replayed).
    public static func freshSeed() -> UInt64 { UInt64.random(in: 0...(UInt64.max >> 1)) }
}
