import Foundation
import GRDB
import SyncCore

/// The replica-core benchmark (issue 2): 10 replicas × 10,000 changes over 20,000 records, 10% of
/// the records edited concurrently by 2–3 replicas, merged into one replica on disk; compared with
/// the SQLite ceiling measured in the same run (the same field writes as plain upserts).
struct MergeBenchmark: Sendable {
    var replicas = 10
    var changesPerReplica = 10_000
    var records = 20_000
    var concurrentFraction = 0.10
    var pageSize = 5_000
    var localWrites = 300
    var seed: UInt64 = 20_260_314
    /// Runs of the ceiling and the merge, alternated, each on a fresh file: the figures are the
    /// medians (and the best runs), so one slow moment on a shared machine does not decide them.
    var repetitions = 5

    init() {}

    /// What the runs measured: times are medians over `repetitions` runs.
    struct Result: Sendable, Codable {
        var ops: Int
        var records: Int
        var mergeSeconds: Double
        var opsPerSecond: Double
        var ceilingSeconds: Double
        var ceilingUpsertsPerSecond: Double
        var ratioToCeiling: Double
        var databaseBytes: Int
        var plainTableBytes: Int
        var sizeRatio: Double
        var metadataBytesPerOp: Double
        var conflicts: Int
        var localWriteSeconds: Double
        var plainInsertSeconds: Double
        var localWriteOverhead: Double
        var peakMemoryMB: Double
        /// Process CPU time of the merge and of the ceiling: on a shared machine the wall-clock
        /// figures above also count time spent waiting for a core.
        var mergeCPUSeconds: Double = 0
        var ceilingCPUSeconds: Double = 0
        /// Every run's wall-clock seconds, in the order run (ceiling and merge alternate).
        var mergeRuns: [Double] = []
        var ceilingRuns: [Double] = []
        /// The best merge against the best ceiling: what each costs with the least interference.
        var bestRatioToCeiling: Double = 0
    }

    /// The median (the mean of the middle two for an even count; 0 for none).
    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static let units = ["TTQLCK", "CPCM-QLDTDN", "CPCM-QHXDMT"]

    func run(directory: URL, log: (String) -> Void = { _ in }) throws -> Result {
        guard records >= replicas else {
            throw SyncError.invalid("records", String(records), "cần ít nhất \(replicas) bản ghi (mỗi bản sao một).")
        }
        var rng = SplitMix64(seed: seed)
        let ids = (0..<replicas).map { Self.replicaID(String(format: "b%07x", $0 + 1)) }
        let unitOf = (0..<replicas).map { Self.units[$0 % Self.units.count] }
        // Records belong to a replica (their creator); concurrent editors share its unit.
        let creator = (0..<records).map { $0 % replicas }
        let recordIDs = (0..<records).map { r -> String in
            RecordID(kind: .activity, owner: unitOf[creator[r]], suffix: "\(ids[creator[r]]).\(r / replicas + 2)").rawValue
        }
        log("Sinh \(replicas) × \(changesPerReplica) thay đổi trên \(records) bản ghi…")
        var signer = OpSigner(seed: seed)
        let allOps = generate(ids: ids, unitOf: unitOf, creator: creator, recordIDs: recordIDs, rng: &rng, signer: &signer)
        let totalOps = allOps.reduce(0) { $0 + $1.count }
        // What hashing every op into its chain costs alone (a receiver's share of verification).
        let hashStart = DispatchTime.now().uptimeNanoseconds
        var head = ChainHash.zero
        for ops in allOps { for op in ops { head = OpChain.next(head, op) } }
        log(
            String(
                format: "băm chuỗi %d thao tác (chain hashing alone): %.3f s (%@)", totalOps,
                Double(DispatchTime.now().uptimeNanoseconds - hashStart) / 1e9, head.short))
        // Each replica's pages as it sends them, signed by it (the author's cost, not the merge's).
        var pages: [OpBatch] = []
        for ops in allOps {
            var i = 0
            while i < ops.count {
                pages.append(try signer.sign(Array(ops[i..<min(i + pageSize, ops.count)])))
                i += pageSize
            }
        }

        // Alternate the SQLite ceiling (the same field writes as plain prepared upserts in one
        // transaction) and the merge (a fresh replica on disk receives every replica's ops, page
        // by page, one transaction per page as sync delivers them).
        let plainPath = directory.appendingPathComponent("ceiling.sqlite").path
        let path = directory.appendingPathComponent("merged.sqlite").path
        var ceilingRuns: [Double] = []
        var ceilingCPURuns: [Double] = []
        var mergeRuns: [Double] = []
        var mergeCPURuns: [Double] = []
        var plainBytes = 0
        var store: ReplicaStore?
        for run in 1...max(1, repetitions) {
            let ceilingCPUStart = Self.cpuSeconds()
            let (ceilingSeconds, bytes) = try ceiling(path: plainPath, ops: allOps)
            ceilingCPURuns.append(Self.cpuSeconds() - ceilingCPUStart)
            ceilingRuns.append(ceilingSeconds)
            plainBytes = bytes

            store = nil
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            let merged = try ReplicaStore.open(path: path, create: true)
            try merged.initialise(identity: nil)
            let start = DispatchTime.now().uptimeNanoseconds
            let mergeCPUStart = Self.cpuSeconds()
            for page in pages {
                let r = try merged.apply(page, source: .peer(authenticated: nil, unit: nil))
                guard r.applied == page.count else {
                    throw SyncError(.internal, "Đo hiệu năng: \(page.count - r.applied) thao tác không được áp dụng.")
                }
            }
            mergeRuns.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            mergeCPURuns.append(Self.cpuSeconds() - mergeCPUStart)
            log(String(format: "lần %d: trần %.3f s, hợp nhất %.3f s", run, ceilingRuns.last ?? 0, mergeRuns.last ?? 0))
            store = merged
        }
        guard let store else { throw SyncError(.internal, "Đo hiệu năng: chưa chạy lần nào.") }
        let mergeSeconds = Self.median(mergeRuns)
        let ceilingSeconds = Self.median(ceilingRuns)
        let mergeCPU = Self.median(mergeCPURuns)
        let ceilingCPU = Self.median(ceilingCPURuns)
        let conflicts = try store.conflictCount()
        try store.compact()
        let dbBytes = try fileSize(path)

        // Local write overhead: `activity add` through SyncCore vs a plain insert, each in its own
        // durable transaction.
        let (localSeconds, plainInsertSeconds) = try localWriteCost(directory: directory)

        let ops = Double(totalOps)
        return Result(
            ops: totalOps, records: records, mergeSeconds: mergeSeconds, opsPerSecond: ops / mergeSeconds,
            ceilingSeconds: ceilingSeconds, ceilingUpsertsPerSecond: ops / ceilingSeconds,
            ratioToCeiling: (ops / mergeSeconds) / (ops / ceilingSeconds), databaseBytes: dbBytes,
            plainTableBytes: plainBytes, sizeRatio: Double(dbBytes) / Double(plainBytes),
            metadataBytesPerOp: Double(dbBytes - plainBytes) / ops, conflicts: conflicts,
            localWriteSeconds: localSeconds, plainInsertSeconds: plainInsertSeconds,
            localWriteOverhead: localSeconds / plainInsertSeconds, peakMemoryMB: Self.peakMemoryMB(), mergeCPUSeconds: mergeCPU,
            ceilingCPUSeconds: ceilingCPU, mergeRuns: mergeRuns, ceilingRuns: ceilingRuns,
            bestRatioToCeiling: (mergeRuns.min() ?? 0) > 0 ? (ceilingRuns.min() ?? 0) / (mergeRuns.min() ?? 1) : 0)
    }

    /// A replica id the workload spells out (letters and digits, so always valid).
    static func replicaID(_ raw: String) -> ReplicaID {
        guard let id = ReplicaID(raw) else { preconditionFailure("bad benchmark replica id \(raw)") }
        return id
    }

    /// Ops per replica, in counter order. Each replica registers, creates its records (unit, date,
    /// title: three field writes each) and spends the rest of its changes on edits; 10% of the
    /// records get concurrent edits of the same field from 2–3 replicas of the owning unit.
    func generate(ids: [ReplicaID], unitOf: [String], creator: [Int], recordIDs: [String], rng: inout SplitMix64, signer: inout OpSigner) -> [[Op]] {
        var ops: [[Op]] = Array(repeating: [], count: replicas)
        var counters = Array(repeating: UInt64(0), count: replicas)
        // Wall-clock milliseconds, from 2026-02-25: each change comes 1 ms to 10 minutes after the
        // previous one (about a year for the whole workload), as HLCs are stamped in real use.
        var millis: UInt64 = 1_772_000_000_000
        // What every field of every record currently holds: the dots a sequential writer supersedes.
        var survivors: [String: [Dot]] = [:]
        func emit(_ r: Int, _ record: Int, _ field: String, _ value: Value, supersedes: [Dot]) -> Dot {
            counters[r] += 1
            millis += 1 + rng.next() % 600_000
            let dot = Dot(ids[r], counters[r])
            ops[r].append(
                Op(dot: dot, hlc: HLC(millis: millis, logical: 0), record: recordIDs[record], field: field, value: value, supersedes: supersedes))
            return dot
        }
        for r in 0..<replicas {
            counters[r] += 2
            ops[r].append(
                Op(
                    dot: Dot(ids[r], 1), hlc: HLC(millis: millis, logical: 0), record: RecordID.replica(ids[r]).rawValue, field: "unit",
                    value: .text(unitOf[r]), supersedes: []))
            ops[r].append(
                Op(
                    dot: Dot(ids[r], 2), hlc: HLC(millis: millis, logical: 1), record: RecordID.replica(ids[r]).rawValue, field: "key",
                    value: signer.publicKey(for: ids[r]), supersedes: []))
        }
        let words = ["Tuyên truyền", "dịch vụ công", "trực tuyến", "cửa khẩu", "Đồng Đăng", "doanh nghiệp", "một cửa", "chuyển đổi số"]
        func title(_ n: UInt64) -> Value {
            .text("\(words[Int(n % 8)]) \(words[Int((n / 8) % 8)]) số \(n % 10_000)")
        }
        for record in 0..<records {
            let r = creator[record]
            let day = 1 + Int(rng.next() % 28)
            for (f, v) in [("unit", Value.text(unitOf[r])), ("date", .text(String(format: "2026-03-%02d", day))), ("title", title(rng.next()))] {
                survivors["\(record)/\(f)"] = [emit(r, record, f, v, supersedes: [])]
            }
        }
        // Concurrent edits: 2–3 replicas of the owner's unit write the same field, each having
        // seen only what was there before.
        let concurrent = Int(Double(records) * concurrentFraction)
        for k in 0..<concurrent {
            let record = (k * 7919) % records
            let owner = creator[record]
            let peers = (0..<replicas).filter { unitOf[$0] == unitOf[owner] }
            let n = 2 + Int(rng.next() % 2)
            let key = "\(record)/title"
            let before = survivors[key] ?? []
            var written: [Dot] = []
            for j in 0..<n {
                let r = peers[(rng.below(peers.count) + j) % peers.count]
                written.append(emit(r, record, "title", title(rng.next()), supersedes: before))
            }
            survivors[key] = written
        }
        // Sequential edits fill each replica's remaining budget.
        for r in 0..<replicas {
            let mine = stride(from: r, to: records, by: replicas).map { $0 }
            while ops[r].count < changesPerReplica {
                let record = mine[rng.below(mine.count)]
                let field = rng.next() % 2 == 0 ? "quantity" : "date"
                let value: Value =
                    field == "quantity" ? .int(Int64(rng.next() % 500)) : .text(String(format: "2026-03-%02d", 1 + Int(rng.next() % 28)))
                let key = "\(record)/\(field)"
                survivors[key] = [emit(r, record, field, value, supersedes: survivors[key] ?? [])]
            }
        }
        return ops
    }

    func ceiling(path: String, ops: [[Op]]) throws -> (Double, Int) {
        try? FileManager.default.removeItem(atPath: path)
        let q = try DatabaseQueue(path: path)
        try q.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL")
            try db.execute(sql: "CREATE TABLE activity (id TEXT PRIMARY KEY NOT NULL, unit TEXT, date TEXT, title TEXT, quantity INTEGER)")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        try q.write { db in
            var statements: [String: Statement] = [:]
            for field in ["unit", "date", "title", "quantity"] {
                statements[field] = try db.makeStatement(
                    sql: "INSERT INTO activity(id, \(field)) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET \(field) = excluded.\(field)")
            }
            for list in ops {
                for op in list {
                    guard let s = statements[op.field] else { continue }
                    try s.execute(arguments: [op.record, op.value])
                }
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        try q.writeWithoutTransaction { db in
            try db.execute(sql: "VACUUM")
            try db.checkpoint(.truncate)
        }
        try q.close()
        return (seconds, try fileSize(path))
    }

    func localWriteCost(directory: URL) throws -> (Double, Double) {
        let path = directory.appendingPathComponent("local.sqlite").path
        let store = try ReplicaStore.open(path: path, create: true)
        try store.initialise(identity: .init(replica: Self.replicaID("a0000001"), unit: "TTQLCK"))
        var start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<localWrites {
            _ = try store.createRecord(
                kind: .activity, owner: "TTQLCK",
                changes: [
                    ("unit", .text("TTQLCK")), ("date", .text("2026-03-02")), ("form", .text("HT06")), ("content", .text("ND05,ND10")),
                    ("title", .text("Tin bài số \(i) về dịch vụ công trực tuyến")), ("quantity", .int(1)), ("url", .text("https://example.vn/\(i)")),
                    ("recorded", .text("2026-03-02T08:00:00Z")), ("deleted", .int(0)),
                ])
        }
        let local = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let plainPath = directory.appendingPathComponent("local-plain.sqlite").path
        let q = try DatabasePool(path: plainPath)
        try q.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(
                sql: """
                    CREATE TABLE activity (id TEXT PRIMARY KEY NOT NULL, unit TEXT, date TEXT, form TEXT, content TEXT, title TEXT,
                    quantity INTEGER, url TEXT, recorded TEXT, deleted INTEGER)
                    """)
        }
        start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<localWrites {
            try q.write { db in
                try db.execute(
                    sql: "INSERT INTO activity VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    arguments: [
                        "HD.TTQLCK.a0000001.\(i)", "TTQLCK", "2026-03-02", "HT06", "ND05,ND10", "Tin bài số \(i) về dịch vụ công trực tuyến", 1,
                        "https://example.vn/\(i)", "2026-03-02T08:00:00Z", 0,
                    ])
            }
        }
        let plain = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return (local, plain)
    }

    func fileSize(_ path: String) throws -> Int {
        let attrs = try FileManager.default.attributesOfItem(atPath: path)
        return (attrs[.size] as? NSNumber)?.intValue ?? 0
    }

    /// CPU time of this process (all threads) so far, in seconds.
    static func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// Peak resident memory of this process, in MB.
    static func peakMemoryMB() -> Double {
        var usage = rusage()
        #if os(Linux)
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
            return Double(usage.ru_maxrss) / 1024
        #else
            getrusage(RUSAGE_SELF, &usage)
            return Double(usage.ru_maxrss) / 1_048_576
        #endif
    }
}
