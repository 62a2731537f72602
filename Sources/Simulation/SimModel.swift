import Foundation
import SyncCore

/// What one simulated history is made of: how many replicas, steps and which deliberate bug (for
/// the tests that prove the invariants can fail).
public struct SimConfig: Sendable {
    public var replicas = 4
    public var steps = 40
    /// The ops per page clients ask for (small, so that paging and resumption are exercised).
    public var pageLimits = [3, 7, 20]
    /// Where the histories' database files go (a RAM disk when there is one).
    public var directory: String = SimConfig.defaultDirectory
    /// A deliberate defect, so a test can check the simulator notices it.
    public var bug: SimBug? = nil
    /// Lines of trace kept for a failing history.
    public var traceLength = 14
    /// Which steps a history draws from: `.first` is the table before bundles, hub backups and
    /// full disks joined it, so a seed found then (20255) replays the same steps.
    public var stepTable: SimStepTable = .current
    /// Every line of every history's trace to standard error as it happens (`cchc-sim --echo`).
    public var echo = false
    /// A folder with a hub and a TTQLCK replica written by the previous release (`hub.sqlite`,
    /// `TTQLCK.sqlite`, as in `Tests/EndToEndTests/Fixtures/previous-main`): that share of the
    /// histories starts from copies of them (migrated when opened), fresh machines beside.
    public var previousRelease: String? = nil
    public var previousReleaseShare = 25
    /// Half of the full-disk steps fail a write or an fsync of a machine's or the hub's database
    /// instead (`FaultyDisk`, a SQLite VFS; `cchc-sim --io-errors`). Off by default, so that a seed
    /// found without it replays the same steps.
    public var ioErrors = false
    /// The hub's operator revokes a machine now and then (`hub revoke`); the machine's next
    /// exchange is refused by name and it moves to a replacement enrolment (`hub enrol
    /// --replaces`, `unit-client rehome`; `cchc-sim --revocations`). Off by default, for the
    /// same reason.
    public var revocations = false

    public init() {}

    public static var defaultDirectory: String {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isDir), isDir.boolValue { return "/dev/shm" }
        return FileManager.default.temporaryDirectory.path
    }
}

/// The step tables of the simulator's versions (docs/SIMULATION.md, "A history").
public enum SimStepTable: String, Sendable {
    /// The first table: no bundles, hub backups, hub restores or full disks.
    case first
    case current

    /// The roll of the current table that takes the step `roll` (0–99) took in this table.
    func currentRoll(_ roll: Int) -> Int {
        guard self == .first else { return roll }
        // first: write 0..<34, sync 34..<64, amend 64..<68, authority 68..<71, snapshot 71..<77,
        // restore 77..<82, crash 82..<86, clock 86..<89, twin 89..<91, forged 91..<94,
        // damaged 94..<97, late delivery 97..<100.
        let starts: [(Int, Int)] = [
            (97, 89), (94, 86), (91, 83), (89, 81), (86, 78), (82, 74), (77, 69), (71, 63), (68, 60), (64, 56), (34, 29), (0, 0),
        ]
        return starts.first { roll >= $0.0 }!.1
    }
}

/// Defects the simulator can plant to show its invariants catch them (never used by default).
public enum SimBug: String, Sendable, CaseIterable {
    /// Each sync starts as if the machine held nothing (its first request reports an empty
    /// vector): it downloads again a page it already has.
    case redownloadEverything = "redownload-everything"
    /// The hub is put back to an earlier copy of its database: ops it acknowledged are gone.
    case hubForgets = "hub-forgets"
    /// The network strips the ops out of the hub's replies (re-signed): clients never get them.
    case repliesLoseOps = "replies-lose-ops"
}

/// The faults the simulator injects, by kind (the summary counts each).
public enum FaultKind: String, Sendable, CaseIterable, Codable {
    case cutRequest = "cut-request"
    case replyLost = "reply-lost"
    case duplicateRequest = "duplicate-request"
    case delayedRequest = "delayed-request"
    case lateDelivery = "late-delivery"
    case truncatedReply = "truncated-reply"
    case flippedRequest = "flipped-request"
    case flippedReply = "flipped-reply"
    case hubUnavailable = "hub-503"
    case slowNetwork = "slow-network"
    case crashBeforeSend = "crash-before-send"
    case crashAfterHubCommit = "crash-after-hub-commit"
    case crashBeforeCommit = "crash-before-commit"
    case crashAfterCommit = "crash-after-commit"
    case clockSkew = "clock-skew"
    case snapshotRestored = "snapshot-restored"
    case twinMachine = "twin-machine"
    case forgedOp = "forged-op"
    case damagedOps = "damaged-ops"
    case authorityViolation = "authority-violation"
    case bundleReplayed = "bundle-replayed"
    case bundleDamaged = "bundle-damaged"
    case bundleWrongDirection = "bundle-wrong-direction"
    case bundleExpired = "bundle-expired"
    case hubRestored = "hub-restored-from-backup"
    case diskFull = "disk-full"
    case hubDiskFull = "hub-disk-full"
    case ioError = "io-error"
    case hubIOError = "hub-io-error"
    case revoked = "revoked"
}

/// Totals over histories.
public struct SimStats: Sendable, Codable, Equatable {
    public var histories = 0
    public var steps = 0
    public var syncs = 0
    public var localWrites = 0
    public var planAmendments = 0
    public var recoveries = 0
    public var rehomes = 0
    /// Another replica's branch held by a machine (relayed by file) set aside for the hub's copy.
    public var branchesSetAside = 0
    /// Histories that started from the previous release's hub and replica.
    public var previousRelease = 0
    public var resumedSyncs = 0
    public var refusals = 0
    public var bundleSyncs = 0
    public var hubBackups = 0
    public var diskFullRefusals = 0
    /// Writes and syncs refused naming `SQLITE_IOERR` (an injected I/O error).
    public var ioErrorRefusals = 0
    /// Refused writes or syncs found whole when the file was opened after a power cut (SQLite
    /// found the commit whose fsync failed intact in its log).
    public var ioErrorFoundWhole = 0
    /// Damaged bundles accepted because the flip only changed the case of a hex letter of the
    /// HMAC (the same HMAC): harmless.
    public var harmlessBundleFlips = 0
    /// Machines moved to a replacement enrolment after their replica was revoked.
    public var replacements = 0
    /// Of `branchesSetAside`: ops of a revoked replica the hub does not hold, set aside when the
    /// hub refused them (`closed`).
    public var revokedSetAside = 0
    /// Of `revokedSetAside`: set aside at the import of a hub's bundle that listed the revoked
    /// replica (`ClosedOrigin`), on a machine syncing by files.
    public var revokedSetAsideByBundle = 0
    public var faults: [String: Int] = [:]
    public var violations = 0

    public init() {}

    public mutating func add(_ o: SimStats) {
        histories += o.histories
        steps += o.steps
        syncs += o.syncs
        localWrites += o.localWrites
        planAmendments += o.planAmendments
        recoveries += o.recoveries
        rehomes += o.rehomes
        branchesSetAside += o.branchesSetAside
        previousRelease += o.previousRelease
        resumedSyncs += o.resumedSyncs
        refusals += o.refusals
        bundleSyncs += o.bundleSyncs
        hubBackups += o.hubBackups
        diskFullRefusals += o.diskFullRefusals
        ioErrorRefusals += o.ioErrorRefusals
        ioErrorFoundWhole += o.ioErrorFoundWhole
        replacements += o.replacements
        revokedSetAside += o.revokedSetAside
        revokedSetAsideByBundle += o.revokedSetAsideByBundle
        harmlessBundleFlips += o.harmlessBundleFlips
        for (k, v) in o.faults { faults[k, default: 0] += v }
        violations += o.violations
    }

    mutating func fault(_ k: FaultKind) { faults[k.rawValue, default: 0] += 1 }

    public var faultTotal: Int { faults.values.reduce(0, +) }

    enum CodingKeys: String, CodingKey {
        case histories, steps, syncs, faults, violations, refusals, recoveries, rehomes
        case localWrites = "local_writes"
        case planAmendments = "plan_amendments"
        case resumedSyncs = "resumed_syncs"
        case branchesSetAside = "branches_set_aside"
        case previousRelease = "previous_release"
        case bundleSyncs = "bundle_syncs"
        case hubBackups = "hub_backups"
        case diskFullRefusals = "disk_full_refusals"
        case ioErrorRefusals = "io_error_refusals"
        case ioErrorFoundWhole = "io_error_found_whole"
        case harmlessBundleFlips = "harmless_bundle_flips"
        case replacements
        case revokedSetAside = "revoked_set_aside"
        case revokedSetAsideByBundle = "revoked_set_aside_by_bundle"
    }
}

/// An invariant that did not hold, with the steps that led there.
public struct SimViolation: Error, Sendable, CustomStringConvertible {
    public var seed: UInt64
    public var step: Int
    public var invariant: String
    public var detail: String
    public var trace: [String]

    public var description: String {
        "Vi phạm «\(invariant)» ở bước \(step) (seed \(seed)): \(detail)\n" + trace.map { "  \($0)" }.joined(separator: "\n")
    }
}

/// The outcome of one history.
public struct SimOutcome: Sendable {
    public var seed: UInt64
    public var stats: SimStats
    public var violation: SimViolation?
    /// FNV-1a over every trace line and the hub's final dump: equal on every replay of the seed.
    public var digest: UInt64 = 0
}

/// FNV-1a, 64 bits: a history's fingerprint (not a security hash).
struct TraceDigest {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add(_ s: String) {
        for b in s.utf8 {
            value ^= UInt64(b)
            value = value &* 0x0000_0100_0000_01b3
        }
        value ^= 0x0a
        value = value &* 0x0000_0100_0000_01b3
    }
}

extension SplitMix64 {
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + below(range.count) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    mutating func pick<T>(_ a: [T]) -> T { a[below(a.count)] }
}
