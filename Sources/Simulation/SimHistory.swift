import Foundation
import SyncCore

/// One simulated history: a hub and several machines in this process, each a real `ReplicaStore`
/// file, syncing through the real client (`SyncClient`) and the hub's real request handler over a
/// simulated network, with local writes through the same API as `unit-client`. Everything random
/// comes from one seed. The invariants are checked after every step and at quiescence; the first
/// that fails ends the history with the trace of the steps before it (docs/SIMULATION.md).
public final class SimHistory: @unchecked Sendable {
    struct Machine {
        var path: String
        var credentials: HubCredentials
        var unit: String
        /// Seconds this machine's clock is ahead of (or behind) the hub's.
        var skew: Int64 = 0
        var snapshots: [String] = []
        var store: ReplicaStore?
        /// The last sync stopped part way (a crash or a fault).
        var interrupted = false
        /// The database was put back to an old copy since its last complete sync.
        var restored = false
        var isTwin = false
        /// Its disk is full (a failed write or sync is then expected).
        var diskFull = false
        /// Its disk fails writes or fsyncs (a write or sync refused naming `SQLITE_IOERR` is expected).
        var ioError = false
        /// The hub was put back to its backup since this machine's last complete sync: its ack
        /// cursor may be past what the hub holds, so its first page may be sent again.
        var hubRestoredSince = false
        /// Origins of other machines whose ops reached this one directly (an ops file whose
        /// damage was harmless), not through the hub: if that origin's author was twinned or
        /// restored, this copy may part from the hub's (a fork its next HTTP sync resolves).
        var relayed: Set<ReplicaID> = []
        /// The hub's operator revoked its replica (`cchc-sim --revocations`): its next exchange
        /// must be refused by name, and it then moves to a replacement enrolment.
        var revoked = false
    }

    public let seed: UInt64
    let config: SimConfig
    var bug: SimBug? { config.bug }
    var rng: SplitMix64
    /// Keys, secrets and nonces, from the seed too but apart from `rng`, so that adding them did
    /// not change which steps a seed runs: a history's bytes are the same on every replay.
    var entropy: SplitMix64
    /// Every trace line and the hub's final dump (`SimOutcome.digest`).
    var digest = TraceDigest()
    let dir: String
    var hub: ReplicaStore
    let hubPath: String
    var hubBackups: [String] = []
    var machines: [Machine] = []
    /// The simulated hub clock, seconds since 1970.
    var now: Int64
    var faultsOn = true
    /// The history started from the previous release's hub and replica.
    var isPrevious = false
    /// The hub's disk is full (its refusals naming `SQLITE_FULL` are then expected).
    var hubDiskFull = false
    /// The hub's disk fails writes or fsyncs.
    var hubIOError = false
    public internal(set) var stats = SimStats()
    var traffic = RunTraffic()
    var held: [HeldRequest] = []
    var hubAppliedTotal = 0
    var hubBaseOps = 0
    /// Refusals that named nothing (an invariant: every refusal names a field or value).
    var unnamed: [String] = []
    var trace: [String] = []
    var step = 0
    let pageLimit: Int
    /// The largest hub vector seen, and the ops under it: what the hub acknowledged.
    var ackVector = VersionVector()
    var acknowledged: [Dot: Op] = [:]
    var counter = 0
    var planCode = 12
    var twinMade = false
    var bundleCount = 0
    var nightlies = 0
    var nightly: HubBackup?
    /// Enrolments the hub issued in this history.
    var hubEnrolments = 0
    /// The hub was put back to its nightly backup / a machine to an old snapshot.
    var hubRestored = false
    var machineRestoredEver = false
    /// The last damaged copy only changed the case of a hex letter.
    var flipIsHexCase = false
    /// A replica was revoked in this history: the hub is then not put back to a backup (a
    /// revoked replica's ops the backup lacks could come back from no one; README, "Known limits").
    var revocationMade = false
    /// Every replica the hub's operator revoked in this history.
    var revokedReplicas = Set<ReplicaID>()
    /// The origins whose branch the last `sync` set aside for the hub's copy (its vector of them
    /// may go back).
    var lastSetAside = Set<ReplicaID>()

    public init(seed: UInt64, config: SimConfig = SimConfig()) throws {
        self.seed = seed
        self.config = config
        rng = SplitMix64(seed: seed)
        entropy = SplitMix64(seed: seed ^ 0x5eed_c0de_ba5e_f00d)
        dir = (config.directory as NSString).appendingPathComponent("cchc-sim-\(seed)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        hubPath = (dir as NSString).appendingPathComponent("hub.sqlite")
        // Only when asked for, so that other histories draw exactly what they drew before.
        var previous: String?
        if let folder = config.previousRelease, rng.chance(config.previousReleaseShare) { previous = folder }
        if let previous {
            // The previous release's hub, migrated in place when opened, as after an upgrade.
            try FileManager.default.copyItem(atPath: (previous as NSString).appendingPathComponent("hub.sqlite"), toPath: hubPath)
            hub = try ReplicaStore.open(path: hubPath)
        } else {
            hub = try ReplicaStore.open(path: hubPath, create: true)
            try hub.initialise(identity: nil)
        }
        hubBaseOps = try hub.opCount()
        // 2026-03-02T00:00:00Z plus up to a few months.
        now = 1_772_409_600 + Int64(rng.below(90 * 86_400))
        pageLimit = rng.pick(config.pageLimits)
        let units = ["VP", "TTQLCK", "TTQLCK", "CPCM-QLDTDN", "CPCM-QHXDMT", "TTQLCK"]
        var first = 0
        if let previous {
            machines.append(try upgraded(from: previous, unit: "TTQLCK", name: "m0"))
            first = 1
        }
        for k in first..<max(2, config.replicas) { machines.append(try enrol(unit: units[k % units.count], name: "m\(k)")) }
        ackVector = try hub.versionVector()
    }

    deinit {
        for m in machines { try? m.store?.close() }
        try? hub.close()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func enrol(unit: String, name: String, as existing: HubCredentials? = nil) throws -> Machine {
        let path = (dir as NSString).appendingPathComponent("\(name).sqlite")
        let creds: HubCredentials
        if let existing {
            creds = existing
        } else {
            let e = try hub.enrol(unit: unit, hubURL: "http://hub.sim", replica: newReplicaID(), now: now, secret: newSecret())
            hubEnrolments += 1
            creds = HubCredentials(enrolment: e)
        }
        let s = try ReplicaStore.open(path: path, create: true)
        try s.initialise(identity: .init(replica: creds.replica, unit: unit), label: name, signingKey: newSigningKey(), nowMillis: writeMillisNow())
        try s.saveCredentials(creds)
        return Machine(path: path, credentials: creds, unit: unit, store: s)
    }

    /// The previous release's replica of `unit` (its unsigned ops, its enrolment and credentials),
    /// a copy opened by this release; its signing key, which it makes at its first write, comes
    /// from the seed.
    func upgraded(from folder: String, unit: String, name: String) throws -> Machine {
        let path = (dir as NSString).appendingPathComponent("\(name).sqlite")
        try FileManager.default.copyItem(atPath: (folder as NSString).appendingPathComponent("\(unit).sqlite"), toPath: path)
        let s = try ReplicaStore.open(path: path)
        guard let creds = try s.credentials() else {
            throw SyncError(.invalidInput, "Bản sao của phiên bản trước «\(path)» không có tệp ghi danh.", field: "previous-release", value: folder)
        }
        try s.provideSigningKeyIfMissing(newSigningKey())
        isPrevious = true
        stats.previousRelease = 1
        note("m0 \(creds.replica) (\(unit)): bản sao của phiên bản trước, nâng cấp khi mở / previous release's replica, upgraded")
        return Machine(path: path, credentials: creds, unit: unit, store: s)
    }

    /// Replica ids from the seed (the hub would pick random ones): records, their order and every
    /// tie between origins are then the same on each replay.
    func newReplicaID() -> ReplicaID {
        ReplicaID(String(format: "%08x", UInt32(truncatingIfNeeded: rng.next() | 0x1000_0000)))!
    }

    func entropyBytes(_ n: Int) -> [UInt8] {
        var out: [UInt8] = []
        while out.count < n { withUnsafeBytes(of: entropy.next().littleEndian) { out += $0 } }
        return Array(out.prefix(n))
    }

    func newSecret() -> String { SyncAuth.hex(entropyBytes(32)) }
    func newNonce() -> String { SyncAuth.hex(entropyBytes(16)) }
    func newSigningKey() -> SigningKey { SigningKey(raw: Data(entropyBytes(32)))! }
    /// The hub's time in milliseconds (a machine's own writes use `writeMillis`).
    func writeMillisNow() -> UInt64 { UInt64(max(0, now)) * 1000 }

    func store(_ i: Int) throws -> ReplicaStore {
        if let s = machines[i].store { return s }
        let s = try ReplicaStore.open(path: machines[i].path)
        machines[i].store = s
        return s
    }

    // MARK: Trace and violations

    func note(_ raw: String) {
        // The history's folder has a random name; the trace names its files without it.
        let line = raw.contains(dir) ? raw.replacingOccurrences(of: dir + "/", with: "") : raw
        trace.append(line)
        digest.add(line)
        if config.echo { FileHandle.standardError.write(Data("[\(seed)] \(line)\n".utf8)) }
        if trace.count > config.traceLength * 3 { trace.removeFirst(trace.count - config.traceLength * 3) }
    }

    func violation(_ invariant: String, _ detail: String) throws -> Never {
        throw SimViolation(seed: seed, step: step, invariant: invariant, detail: detail, trace: Array(trace.suffix(config.traceLength)))
    }

    /// A refusal seen anywhere: it must name what it refused (a field or a value: origin:counter,
    /// the replica, the field at fault).
    func refused(_ e: SyncError, by who: String) {
        stats.refusals += 1
        if e.message.isEmpty || (e.field == nil && e.value == nil) { unnamed.append("\(who): [\(e.code)] \(e.message)") }
    }

    // MARK: Running

    /// Runs the history: the steps with faults, then quiescence; returns its outcome.
    public func run() async -> SimOutcome {
        stats.histories = 1
        do {
            let steps = config.steps
            for k in 1...max(1, steps) {
                step = k
                stats.steps += 1
                try await oneStep()
                try checkAfterStep()
            }
            step += 1
            try await quiesce()
            return SimOutcome(seed: seed, stats: stats, violation: nil, digest: digest.value)
        } catch let v as SimViolation {
            stats.violations += 1
            return SimOutcome(seed: seed, stats: stats, violation: v, digest: digest.value)
        } catch {
            stats.violations += 1
            let v = SimViolation(
                seed: seed, step: step, invariant: "no-unexpected-error", detail: "\(error)", trace: Array(trace.suffix(config.traceLength)))
            return SimOutcome(seed: seed, stats: stats, violation: v, digest: digest.value)
        }
    }

    func oneStep() async throws {
        let i = rng.below(machines.count)
        now += Int64(rng.int(1...90))
        let m = machines[i]
        let label = "bước \(step) · m\(i) \(m.credentials.replica) (\(m.unit)\(m.skew != 0 ? ", lệch \(m.skew) s" : ""))"
        // Drawn only when asked for, so that other histories draw exactly what they drew before.
        if config.revocations && rng.chance(2) {
            note("\(label) · hub thu hồi bản sao (revoke)")
            return try revoke(i)
        }
        let roll = config.stepTable.currentRoll(rng.below(100))
        switch roll {
        case 0..<29:
            note("\(label) · ghi cục bộ")
            try write(i)
        case 29..<56:
            note("\(label) · đồng bộ")
            _ = try await sync(i)
        case 56..<60:
            note("\(label) · sửa đổi Kế hoạch")
            try amendPlan(i)
        case 60..<63:
            note("\(label) · vượt quyền (authority violation)")
            try authorityViolation(i)
        case 63..<69:
            note("\(label) · chụp bản sao lưu (snapshot)")
            try snapshot(i)
        case 69..<74:
            note("\(label) · khôi phục bản sao lưu cũ (restore)")
            try restore(i)
        case 74..<78:
            note("\(label) · máy tắt khi đang ghi (crash)")
            try crashDuringWrite(i)
        case 78..<81:
            try skewClock(i, label: label)
        case 81..<83:
            note("\(label) · máy sinh đôi (twin)")
            try makeTwin(i)
        case 83..<86:
            note("\(label) · thao tác giả mạo (forged)")
            try forge(from: i)
        case 86..<89:
            note("\(label) · thao tác hỏng (damaged)")
            try damage(from: i)
        case 89..<92:
            note("\(label) · mạng giao yêu cầu trễ")
            try deliverHeld()
        case 92..<95:
            note("\(label) · đồng bộ bằng gói tin (bundle)")
            try bundleSync(i)
        case 95..<97:
            note("bước \(step) · hub sao lưu đêm (nightly)")
            try hubNightly()
        case 97:
            note("bước \(step) · hub hỏng, khôi phục từ bản sao lưu đêm")
            try hubRestore()
        default:
            if config.ioErrors && rng.chance(50) {
                note("\(label) · đĩa lỗi vào/ra (I/O error)")
                try await ioError(i)
            } else {
                note("\(label) · đĩa đầy (disk full)")
                try await diskFull(i)
            }
        }
        if bug == .hubForgets {
            if hubBackups.isEmpty || rng.chance(10) { try hub.backup(to: hubBackup()) } else if rng.chance(15) { try hubForgets() }
        }
    }

    // MARK: Local writes (what unit-client's commands do)

    func writeMillis(_ i: Int) -> UInt64 { UInt64(max(0, now + machines[i].skew)) * 1000 + UInt64(rng.below(1000)) }

    func write(_ i: Int) throws {
        let s = try store(i)
        let unit = machines[i].unit
        let ms = writeMillis(i)
        do {
            let mine = try s.activities(unit: unit)
            let r = rng.below(100)
            if mine.isEmpty || r < 45 {
                counter += 1
                _ = try s.createRecord(kind: .activity, owner: unit, changes: activityFields(unit: unit), nowMillis: ms)
            } else if r < 75 {
                let target = try RecordID.parse(rng.pick(mine).id)
                let change: (String, Value) =
                    switch rng.below(3) {
                    case 0: ("quantity", .int(Int64(rng.int(1...99))))
                    case 1: ("participants", .int(Int64(rng.int(5...300))))
                    default: ("title", .text("Hoạt động \(seed % 1000)-\(rng.below(1000)) (sửa)"))
                    }
                try s.writeRecord(target, changes: [change], nowMillis: ms)
            } else if r < 87 {
                try s.writeRecord(try RecordID.parse(rng.pick(mine).id), changes: [], delete: true, nowMillis: ms)
            } else {
                let tasks = try s.tasks(unit: unit)
                guard !tasks.isEmpty else { return }
                let t = rng.pick(tasks)
                try s.writeRecord(try RecordID.parse(t.id), changes: [("status", .text(rng.pick(TaskStatus.allCases).rawValue))], nowMillis: ms)
            }
            stats.localWrites += 1
        } catch let e as SyncError {
            refused(e, by: "ghi cục bộ")
            note("  từ chối: \(e.message)")
        }
    }

    func activityFields(unit: String) -> [(String, Value)] {
        let day = rng.int(1...28)
        return [
            ("unit", .text(unit)), ("date", .text(String(format: "2026-03-%02d", day))), ("form", .text(rng.pick(["HT01", "HT02"]))),
            ("content", .text(rng.pick(["ND01", "ND05", "ND07"]))), ("title", .text("Hoạt động \(seed % 1000)-\(counter)")),
            ("quantity", .int(Int64(rng.int(1...9)))), ("participants", .int(Int64(rng.int(10...200)))),
            ("recorded", .text(String(format: "2026-03-%02dT08:00:00Z", day))), ("deleted", .int(0)),
        ]
    }

    /// The Office amends the plan; any other unit trying is refused by name (an authority violation).
    func amendPlan(_ i: Int) throws {
        let s = try store(i)
        planCode += 1
        let code = "ND\(planCode)"
        do {
            try s.amendPlan(year: 2026, [.addContent(code: code, title: "Nội dung bổ sung \(code)", from: nil)], nowMillis: writeMillis(i))
            guard machines[i].unit == "VP" else { try violation("authority", "đơn vị \(machines[i].unit) đã sửa được Kế hoạch") }
            stats.planAmendments += 1
        } catch let e as SyncError {
            refused(e, by: "sửa Kế hoạch")
            if machines[i].unit != "VP" {
                stats.fault(.authorityViolation)
                guard e.code == .forbidden else { try violation("authority", "sửa Kế hoạch bởi \(machines[i].unit) bị từ chối sai mã: \(e)") }
            }
        }
    }

    /// A replica that bypassed its own rules sends the hub a plan (or another unit's) op signed
    /// with its own key: the hub refuses it by name and keeps nothing of it.
    func authorityViolation(_ i: Int) throws {
        let s = try store(i)
        let me = machines[i].credentials.replica
        guard machines[i].unit != "VP" else { return }
        // As every client does before its ops leave it: a replica upgraded from the release
        // before signing registers its key here (else the hub answers 400, "no machine key").
        try s.prepareToSend()
        let vv = try s.versionVector()
        let hubHas = try hub.versionVector()[me]
        var unsent = try s.ops(of: me, after: hubHas, limit: .max)
        // Only the key just registered may go with the probe: other unsent work is the sync's.
        guard vv[me] > 0, hubHas <= vv[me], unsent.ops.allSatisfy({ $0.field == "key" && $0.record == RecordID.replica(me).rawValue })
        else { return }
        stats.fault(.authorityViolation)
        let record =
            rng.chance(50)
            ? PlanEntries.record(year: 2026, code: "ND05").rawValue
            : (try hub.activities(unit: nil).first { $0.unit != machines[i].unit }?.id ?? PlanEntries.record(year: 2026, code: "ND01").rawValue)
        let op = Op(
            dot: Dot(me, vv[me] + 1), hlc: HLC(millis: writeMillis(i), logical: 0), record: record, field: "title",
            value: .text("Sửa trái phép"), supersedes: [])
        let probe = try s.signOwnOpsUnchecked([op])
        unsent.ops += probe.ops
        unsent.heads += probe.heads
        // Ops of a revoked replica beyond the hub's copy would be refused first (409, `closed`), as
        // the client's sync then sets them aside; the probe asks as it would after that.
        var asked = vv
        let hubVector = try hub.versionVector()
        for r in revokedReplicas { asked[r] = min(vv[r], hubVector[r]) }
        let body = try WireCodec.encode(SyncRequest(replica: me, versionVector: asked, batch: unsent, machineKey: try s.machineKey()))
        let before = try hub.versionVector()
        var headers = SyncAuth.signRequest(body: body, replica: me, key: machines[i].credentials.key, now: now)
        headers[SyncProtocol.Header.schema] = String(SchemaVersion.current.version)
        let reply = handleAtHub(body: body, headers: headers)
        guard reply.status == 403 || reply.status == 401 else {
            try violation("authority", "hub trả lời HTTP \(reply.status) cho thao tác vượt quyền trên \(record)")
        }
        guard try hub.versionVector() == before else { try violation("authority", "thao tác vượt quyền bị từ chối nhưng hub đã đổi") }
    }

    // MARK: Sync

    /// One `unit-client sync` of machine `i` (with the restore recovery it runs): returns whether
    /// it completed and moved anything.
    @discardableResult
    func sync(_ i: Int, quiescent: Bool = false, mustComplete: Bool = false) async throws -> (ok: Bool, moved: Bool) {
        stats.syncs += 1
        lastSetAside = []
        let s = try store(i)
        let me = machines[i].credentials.replica
        let vvBefore = try s.versionVector()
        let opsBefore = try s.opCount()
        let hubBefore = try hub.versionVector()
        traffic = RunTraffic()
        var client = SyncClient(
            store: s, credentials: machines[i].credentials, hubURL: machines[i].credentials.hubURL,
            transport: SimTransport(history: self, machine: i))
        client.pageLimit = pageLimit
        client.retry = RetryPolicy(attempts: 4, baseDelay: 1, maxDelay: 8)
        let skew = machines[i].skew
        client.clock = { [unowned self] in self.now + skew }
        client.sleep = { [unowned self] seconds in self.now += Int64(seconds.rounded(.up)) }
        do {
            let (summary, recovered, newStore) = try await client.runRecovering()
            // After a recovery the old store was closed by the file swap (closing twice would
            // crash inside SQLite): only the new one is kept.
            machines[i].store = newStore
            if let r = recovered.restore {
                stats.recoveries += 1
                note("  khôi phục sau restore: \(r.setAside) thao tác ghi lại")
            }
            for r in recovered.setAside {
                stats.branchesSetAside += 1
                lastSetAside.insert(r.replica)
                if revokedReplicas.contains(r.replica) { stats.revokedSetAside += 1 }
                note("  giữ bản của hub cho \(r.replica): \(r.setAside) thao tác để riêng từ số \(r.from)")
            }
            if recovered.isEmpty && !machines[i].restored {
                try checkResumption(i, me: me, vvBefore: vvBefore, hubBefore: hubBefore, opsBefore: opsBefore, summary: summary)
            }
            if machines[i].revoked { try violation("revoked-refused", "bản sao đã thu hồi \(me) vẫn đồng bộ được với hub") }
            note("  xong: gửi \(summary.sent), nhận \(summary.received), \(summary.roundTrips) lượt")
            machines[i].interrupted = false
            machines[i].restored = false
            machines[i].hubRestoredSince = false
            return (true, summary.sent + summary.received > 0 || !recovered.isEmpty)
        } catch let e as SyncError where e.field == "sim" {
            // The machine crashed mid-sync: what it held in memory is gone; its file stays.
            machines[i].store = nil
            machines[i].interrupted = true
            note("  máy tắt giữa lúc đồng bộ")
            if quiescent { try violation("quiescence", "lỗi mô phỏng khi đã tắt lỗi") }
            return (false, true)
        } catch let e as SyncError {
            refused(e, by: "đồng bộ")
            if e.value == "SQLITE_FULL" { stats.diskFullRefusals += 1 }
            if e.value == "SQLITE_IOERR" { stats.ioErrorRefusals += 1 }
            note("  từ chối [\(e.code)] \(e.field ?? "-")=\(e.value ?? "-"): \(e.message.prefix(140))")
            if e.code == .forbidden && e.field == "enrolment" {
                try rehome(i)
                return (false, true)
            }
            if e.code == .forbidden && e.field == "replica" && e.value == me.rawValue && machines[i].revoked {
                // Refused before anything was taken; the unit asks for a replacement enrolment.
                guard try hub.versionVector() == hubBefore else {
                    try violation("revoked-refused", "hub từ chối bản sao đã thu hồi \(me) nhưng đã đổi")
                }
                try rehome(i)
                return (false, true)
            }
            machines[i].interrupted = true
            // Reopened: a failed recovery may have swapped files (and closed the store already).
            machines[i].store = nil
            let excused =
                (!traffic.faults.isEmpty && !mustComplete) || abs(skew) > SyncProtocol.clockWindow
                || ((machines[i].diskFull || hubDiskFull) && e.value == "SQLITE_FULL")
                || ((machines[i].ioError || hubIOError) && e.value == "SQLITE_IOERR")
            if quiescent || !excused {
                try violation(
                    "sync-completes",
                    "đồng bộ thất bại khi không có lỗi nào được đưa vào: [\(e.code)] \(e.field ?? "-")=\(e.value ?? "-") \(e.message)")
            }
            return (false, true)
        }
    }

    /// A second machine on one enrolment was refused: its work moves to a new enrolment.
    /// On a full or failing disk the rehome may be refused by name (`db=SQLITE_FULL`/`SQLITE_IOERR`):
    /// the machine's file is then as it was, no half-made file is left beside it, and its next
    /// sync, refused again, rehomes again.
    func rehome(_ i: Int) throws {
        do {
            try rehomeNow(i)
        } catch let e as SyncError where (machines[i].ioError && e.value == "SQLITE_IOERR") || (machines[i].diskFull && e.value == "SQLITE_FULL") {
            refused(e, by: "chuyển ghi danh")
            if e.value == "SQLITE_IOERR" { stats.ioErrorRefusals += 1 } else { stats.diskFullRefusals += 1 }
            note("  chuyển ghi danh khi đĩa lỗi: [\(e.code)] \(e.field ?? "-")=\(e.value ?? "-"); tệp của máy giữ nguyên")
            machines[i].store = nil
            let folder = (machines[i].path as NSString).deletingLastPathComponent
            let name = (machines[i].path as NSString).lastPathComponent
            let left = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(name + ".chuyen-") }
            guard left.isEmpty else { try violation("io-error", "chuyển ghi danh thất bại để lại tệp dở dang: \(left.sorted())") }
        }
    }

    func rehomeNow(_ i: Int) throws {
        let s = try store(i)
        let e2: EnrolmentFile
        // A revoked replica gets a replacement (`hub enrol --replaces`): the file says what the
        // hub holds of it, and the rehome writes again only the rest.
        let replacing = machines[i].revoked ? machines[i].credentials.replica : nil
        do {
            e2 = try hub.enrol(
                unit: machines[i].unit, hubURL: "http://hub.sim", replica: newReplicaID(), now: now, secret: newSecret(), replacing: replacing)
        } catch let e as SyncError where (hubIOError && e.value == "SQLITE_IOERR") || (hubDiskFull && e.value == "SQLITE_FULL") {
            // The operator's `hub enrol` on the hub's full or failing disk is refused by name; the
            // machine has nothing to move to yet: its file is untouched, its next sync, refused
            // again, rehomes again (seeds 513885888634615319, …617706, …617736).
            refused(e, by: "ghi danh mới ở hub")
            if e.value == "SQLITE_IOERR" { stats.ioErrorRefusals += 1 } else { stats.diskFullRefusals += 1 }
            note("  ghi danh mới khi đĩa của hub lỗi: [\(e.code)] \(e.field ?? "-")=\(e.value ?? "-"); máy giữ ghi danh cũ")
            return
        }
        hubEnrolments += 1
        let r = try Recovery.rehome(store: s, enrolment: e2, now: now + machines[i].skew, signingKey: newSigningKey())
        machines[i].store = nil
        machines[i].credentials = HubCredentials(enrolment: e2)
        machines[i].snapshots = []
        machines[i].restored = false
        if let replacing {
            machines[i].revoked = false
            stats.replacements += 1
            note("  bản sao đã thu hồi \(replacing) → ghi danh thay thế \(e2.replicaID): giữ \(r.from - 1) thao tác hub đã có, ghi lại \(r.setAside)")
        } else {
            stats.rehomes += 1
            note("  máy dùng chung ghi danh bị từ chối → chuyển sang ghi danh mới \(e2.replicaID)")
        }
    }

    /// A sync that completed moved at most what was missing plus one page per interruption:
    /// a resumed sync does not send or download again what already arrived. And nothing was
    /// applied twice: what the client's log grew by is what it reported applied.
    func checkResumption(
        _ i: Int, me: ReplicaID, vvBefore: VersionVector, hubBefore: VersionVector, opsBefore: Int, summary: SyncSummary
    ) throws {
        let s = try store(i)
        let page = pageLimit + Int(SignedHead.spacing)
        let lost = traffic.faults.filter { $0 == .replyLost || $0 == .duplicateRequest || $0 == .slowNetwork }.count
        let interruptions = lost + (machines[i].interrupted ? 1 : 0) + (machines[i].hubRestoredSince ? 1 : 0)
        if machines[i].interrupted || lost > 0 { stats.resumedSyncs += 1 }
        // What it had to send: its own ops the hub lacked, counting those the sync itself wrote
        // (a replica of the previous release registers its key at its first sync).
        let ownNow = try s.versionVector()[me]
        let remainingUp = Int(ownNow > hubBefore[me] ? ownNow - hubBefore[me] : 0)
        var remainingDown = 0
        for (o, c) in hubBefore.sorted where c > vvBefore[o] && o != me { remainingDown += Int(c - vvBefore[o]) }
        if traffic.up > remainingUp + page * interruptions {
            try violation(
                "resume-redoes-at-most-one-page",
                "gửi \(traffic.up) thao tác trong khi hub còn thiếu \(remainingUp) (trang \(page), \(interruptions) lần gián đoạn)")
        }
        if traffic.down > remainingDown + page * interruptions {
            try violation(
                "resume-redoes-at-most-one-page",
                "tải về \(traffic.down) thao tác trong khi máy còn thiếu \(remainingDown) (trang \(page), \(interruptions) lần gián đoạn)")
        }
        let ownGrowth = Int(try s.versionVector()[me] - vvBefore[me])
        let grew = try s.opCount() - opsBefore
        if grew != summary.received + ownGrowth {
            try violation("no-op-applied-twice", "sổ thao tác tăng \(grew) nhưng máy báo đã áp dụng \(summary.received) (+\(ownGrowth) của mình)")
        }
    }

    // MARK: Crashes, restores, clocks, twins

    func crashDuringWrite(_ i: Int) throws {
        let s = try store(i)
        let vv = try s.versionVector()
        let unit = machines[i].unit
        counter += 1
        let fields = activityFields(unit: unit)
        let ms = writeMillis(i)
        if rng.chance(50) {
            stats.fault(.crashBeforeCommit)
            struct PowerCut: Error {}
            _ = try? s.localWrites { batch in
                _ = try batch.create(kind: .activity, owner: unit, changes: fields, nowMillis: ms)
                throw PowerCut()
            }
            machines[i].store = nil
            guard try store(i).versionVector() == vv else { try violation("atomic-writes", "ghi bị cắt trước khi commit nhưng vẫn để lại thao tác") }
        } else {
            stats.fault(.crashAfterCommit)
            let id = try s.createRecord(kind: .activity, owner: unit, changes: fields, nowMillis: ms)
            machines[i].store = nil
            guard try store(i).activity(id.rawValue) != nil else { try violation("durable-writes", "ghi đã commit nhưng mất sau khi máy tắt") }
        }
    }

    func snapshot(_ i: Int) throws {
        let copy = machines[i].path + ".snap\(machines[i].snapshots.count)"
        try store(i).backup(to: copy)
        machines[i].snapshots.append(copy)
    }

    func restore(_ i: Int) throws {
        guard !machines[i].snapshots.isEmpty, !hubRestored else { return }
        stats.fault(.snapshotRestored)
        machineRestoredEver = true
        let from = rng.pick(machines[i].snapshots)
        try? machines[i].store?.close()
        machines[i].store = nil
        let fm = FileManager.default
        for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: machines[i].path + suffix) }
        try fm.copyItem(atPath: from, toPath: machines[i].path)
        machines[i].restored = true
    }

    func skewClock(_ i: Int, label: String) throws {
        let hours = Int64(rng.int(1...6)) * 3600
        let skew: Int64 =
            switch rng.below(4) {
            case 0: 0
            case 1: Int64(rng.int(-120...120))
            case 2: hours
            default: -hours
            }
        machines[i].skew = skew
        if skew != 0 { stats.fault(.clockSkew) }
        note("\(label) · đồng hồ lệch \(skew) s")
    }

    /// Another machine initialised from the same enrolment as machine `i`.
    func makeTwin(_ i: Int) throws {
        guard !twinMade, !hubRestored, !machines[i].isTwin else { return }
        twinMade = true
        stats.fault(.twinMachine)
        var twin = try enrol(unit: machines[i].unit, name: "twin\(i)", as: machines[i].credentials)
        twin.isTwin = true
        // A copy of a revoked enrolment is refused as its original is.
        twin.revoked = machines[i].revoked
        machines.append(twin)
        try write(machines.count - 1)
    }

    // MARK: Forged and damaged ops

    /// Machine `i`'s own ops with one value changed, handed to another machine (ops file) and to
    /// the hub inside another machine's request: refused by name, nothing changed.
    func forge(from i: Int) throws {
        let src = try store(i)
        let origin = machines[i].credentials.replica
        var batch = try src.ops(of: origin, after: 0, limit: .max)
        let editable = batch.ops.indices.filter { batch.ops[$0].field == "title" }
        guard !editable.isEmpty else { return }
        stats.fault(.forgedOp)
        let k = rng.pick(editable)
        batch.ops[k].value = .text("Tiêu đề giả mạo \(seed)")
        let j = (i + 1 + rng.below(machines.count - 1)) % machines.count
        let dst = try store(j)
        let before = try dst.versionVector()
        do {
            try dst.apply(batch, source: .peer(authenticated: nil, unit: nil))
            try violation("forged-refused", "giá trị giả mạo của \(batch.ops[k].dot) được chấp nhận ở m\(j)")
        } catch let e as SyncError {
            refused(e, by: "tệp thao tác giả mạo")
            guard e.code == .unauthorized || e.code == .fork, e.value != nil else {
                try violation("forged-refused", "thao tác giả mạo bị từ chối không nêu tên: \(e)")
            }
        }
        guard try dst.versionVector() == before else { try violation("forged-refused", "thao tác giả mạo bị từ chối nhưng m\(j) đã đổi") }
    }

    /// Machine `i`'s ops as a wire body with one byte flipped, applied elsewhere: refused by
    /// name, or harmless (every op kept is the genuine one). From a revoked machine too: what it
    /// holds beyond the hub's copy is set aside at the receiver's next HTTP sync.
    func damage(from i: Int) throws {
        let src = try store(i)
        let batch = try src.ops(of: machines[i].credentials.replica, after: 0, limit: .max)
        guard !batch.isEmpty else { return }
        stats.fault(.damagedOps)
        let body = try WireCodec.encode(SyncResponse(hubVersionVector: try src.versionVector(), batch: batch, more: false))
        var bytes = [UInt8](body)
        let at = rng.int(6...(bytes.count - 1))
        bytes[at] ^= UInt8(1 << rng.below(8))
        let j = (i + 1 + rng.below(machines.count - 1)) % machines.count
        let dst = try store(j)
        let before = try dst.versionVector()
        do {
            let decoded = try WireCodec.decodeResponse(Data(bytes))
            do {
                try dst.apply(decoded.batch, source: .peer(authenticated: nil, unit: nil))
                machines[j].relayed.insert(machines[i].credentials.replica)
                let genuine = Dictionary(uniqueKeysWithValues: batch.ops.map { ($0.dot, $0) })
                for op in try dst.ops(of: machines[i].credentials.replica, after: 0, limit: .max).ops {
                    if let g = genuine[op.dot], g != op { try violation("damaged-refused", "thao tác hỏng \(op.dot) được áp dụng (byte \(at))") }
                }
            } catch let e as SyncError {
                refused(e, by: "tệp thao tác hỏng")
                guard try dst.versionVector() == before else { try violation("damaged-refused", "lô hỏng bị từ chối nhưng m\(j) đã đổi: \(e)") }
            }
        } catch let e as SyncError {
            refused(e, by: "giải mã thân hỏng")
        }
    }

    // MARK: The deliberate bug of the hub forgetting

    func hubBackup() -> String {
        let p = hubPath + ".backup\(hubBackups.count)"
        hubBackups.append(p)
        return p
    }

    /// The hub's database is put back to its oldest backup (only with `SimBug.hubForgets`).
    func hubForgets() throws {
        guard let from = hubBackups.first else { return }
        try hub.close()
        let fm = FileManager.default
        for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: hubPath + suffix) }
        try fm.copyItem(atPath: from, toPath: hubPath)
        hub = try ReplicaStore.open(path: hubPath)
        note("  (lỗi cố ý) hub quay về bản sao lưu cũ")
    }

    // MARK: Invariants

    func checkAfterStep() throws {
        if let u = unnamed.first { try violation("every-refusal-named", u) }
        let hv = try hub.versionVector()
        for (o, c) in ackVector.sorted where hv[o] < c {
            try violation("nothing-acknowledged-lost", "hub đã xác nhận \(o):\(c) nhưng nay chỉ còn \(o):\(hv[o])")
        }
        let fresh = try hub.ops(after: ackVector)
        for op in fresh.ops {
            if let known = acknowledged[op.dot], known != op { try violation("nothing-acknowledged-lost", "hub đổi thao tác đã xác nhận \(op.dot)") }
            acknowledged[op.dot] = op
        }
        ackVector = ackVector.merged(with: hv)
        try checkVector(hub, "hub")
        if bug != .hubForgets, try hub.opCount() != hubBaseOps + hubAppliedTotal {
            try violation(
                "no-op-applied-twice", "hub có \(try hub.opCount() - hubBaseOps) thao tác mới nhưng đã báo áp dụng \(hubAppliedTotal)")
        }
        for (k, m) in machines.enumerated() where m.store != nil { try checkVector(try store(k), "m\(k)") }
    }

    /// A vector claims exactly the ops the log holds: one per counter of each origin, no more.
    func checkVector(_ s: ReplicaStore, _ who: String) throws {
        let vv = try s.versionVector()
        let n = try s.opCount()
        if UInt64(n) != vv.total {
            try violation("vector-claims-only-what-was-applied", "\(who): vector \(vv.total) thao tác, sổ có \(n)")
        }
    }

    /// Faults stop, clocks are put right, and everyone syncs until nothing moves; then every
    /// replica is byte-identical to the hub, and everything the hub ever acknowledged is there.
    func quiesce() async throws {
        note("— tĩnh lặng (quiescence): tắt lỗi, chỉnh đồng hồ, mọi máy đồng bộ đến hết —")
        try deliverHeld()
        faultsOn = false
        for k in machines.indices { machines[k].skew = 0 }
        now += 3600
        var settled = false
        for round in 0..<6 {
            var moved = false
            for k in machines.indices {
                note("bước \(step) · m\(k) \(machines[k].credentials.replica) · đồng bộ lúc tĩnh lặng (vòng \(round + 1))")
                let r = try await sync(k, quiescent: true)
                if r.moved || !r.ok { moved = true }
                now += 5
            }
            try checkAfterStep()
            if !moved {
                settled = true
                break
            }
        }
        if !settled { try violation("quiescence", "sau 6 vòng đồng bộ vẫn còn thao tác di chuyển") }
        let hubDump = try hub.dump().json()
        digest.add(String(decoding: hubDump, as: UTF8.self))
        let hv = try hub.versionVector()
        for k in machines.indices {
            let s = try store(k)
            guard try s.versionVector() == hv else {
                try violation("identical-at-quiescence", "m\(k) có vector \(try s.versionVector()), hub \(hv)")
            }
            guard try s.dump().json() == hubDump else {
                let mine = try s.dump().records
                let theirs = try hub.dump().records
                let diff = Set(mine.keys).union(theirs.keys).filter { mine[$0] != theirs[$0] }.sorted()
                try violation("identical-at-quiescence", "m\(k) khác hub ở bản ghi \(diff.prefix(3))")
            }
            guard try s.pendingCount() == 0 else { try violation("identical-at-quiescence", "m\(k) còn giữ thao tác chờ") }
        }
        guard try hub.pendingCount() == 0 else { try violation("identical-at-quiescence", "hub còn giữ thao tác chờ") }
        let all = try hub.ops(after: VersionVector()).ops
        let final = Dictionary(all.map { ($0.dot, $0) }, uniquingKeysWith: { a, _ in a })
        for (dot, op) in acknowledged.sorted(by: { $0.key < $1.key }) where final[dot] != op {
            try violation("nothing-acknowledged-lost", "thao tác hub đã xác nhận \(dot) không còn ở trạng thái cuối")
        }
        try checkNoDuplicatedWork()
    }

    /// Each activity `write` created has a title no other creation has ("Hoạt động S-N", N the
    /// history's count of creations): two live activities with one such title are one piece of
    /// work counted twice in the report, as a recovery or a rehome that wrote again what the hub
    /// already held would leave (edited titles, "… (sửa)", are not unique and are not checked).
    func checkNoDuplicatedWork() throws {
        let prefix = "Hoạt động \(seed % 1000)-"
        var seen: [String: String] = [:]
        for a in try hub.activities(unit: nil).sorted(by: { $0.id < $1.id }) where a.title.hasPrefix(prefix) && !a.title.hasSuffix("(sửa)") {
            if let other = seen[a.title] {
                try violation("no-duplicated-work", "hoạt động «\(a.title)» có hai bản sống ở hub: \(other) và \(a.id) (báo cáo đếm hai lần)")
            }
            seen[a.title] = a.id
        }
    }
}
