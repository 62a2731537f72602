import Foundation
import Testing

@testable import SyncCore

/// The merge laws through the real store (SQLite in memory, `ApplySession`, canonical dump).
///
/// Each history has several replicas of the same units (so they edit the same activities and
/// tasks concurrently) plus Office replicas that assign and edit tasks. They write locally
/// (creates, edits, deletes, resolutions) and exchange random subsets of ops in random orders,
/// with duplicates and gaps (ops ahead of a gap are held back). Checked along the way: replicas
/// with equal vectors have byte-identical dumps; every vector counter is backed by contiguous ops.
/// Checked after a full exchange: identical dumps, conflicts and op counts; nothing left held
/// back; re-applying everything changes nothing; and each field's values and conflict equal what
/// the causal history says (the values no writer saw survive, the greatest `(HLC, origin)` wins).
///
/// Soak: `CCHC_SOAK_STORE_HISTORIES=2000 swift test -c release --filter ReplicaConvergenceTests`.
/// Replay one seed: `CCHC_SEED=<seed> swift test --filter ReplicaConvergenceTests`.
@Suite struct ReplicaConvergenceTests {
    static let parts = 4
    static let seeds = PropertyRuns.seeds(default: 60, base: 0xC0_4E00_0000, soakVariable: "CCHC_SOAK_STORE_HISTORIES")

    @Test("Các bản sao hội tụ qua kho SQLite thật / replicas converge through the real store", arguments: 0..<parts)
    func convergence(part: Int) throws {
        let slice = PropertyRuns.slices(Self.seeds, parts: Self.parts)
        guard part < slice.count else { return }
        var failures = 0
        var heldBack = 0
        var conflicted = 0
        var deleteConflicts = 0
        for seed in slice[part] {
            var failure: String?
            do {
                var history = try StoreHistory(seed: seed)
                try history.run()
                failure = try history.exchangeAllAndCheck()
                heldBack += history.heldBack
                let conflicts = try history.replicas[0].store.conflicts()
                conflicted += conflicts.isEmpty ? 0 : 1
                deleteConflicts += conflicts.filter { $0.field == "deleted" }.count
            } catch {
                failure = "threw \(error)"
            }
            #expect(failure == nil, "seed \(seed) (replay: CCHC_SEED=\(seed)): \(failure ?? "")")
            if failure != nil {
                failures += 1
                if failures >= 3 { return }
            }
        }
        // The generator must exercise the hard cases, or passing proves little.
        if slice[part].count >= 10 {
            #expect(heldBack > 0, "no op was ever held back behind a gap")
            #expect(conflicted > 0, "no history ended with a conflict")
            #expect(deleteConflicts > 0, "no delete was ever concurrent with an edit")
        }
    }
}

/// One replica of a store history.
struct StoreReplica {
    var store: ReplicaStore
    var id: ReplicaID
    var unit: String
    var skew: Int
}

struct StoreHistory {
    static let peer = OpSource.peer(authenticated: nil, unit: nil)
    static let titles = [
        "Đối thoại với doanh nghiệp tại cửa khẩu Hữu Nghị",
        "Tuyên truyền dịch vụ công trực tuyến toàn trình",
        "Phát tờ rơi về thủ tục xuất nhập cảnh",
        "Tin bài về chuyển đổi số ở Đồng Đăng",
        // The same text decomposed (NFD), as some input methods produce it: stored as NFC.
        "Tin bài về chuyển đổi số ở Đồng Đăng".decomposedStringWithCanonicalMapping,
        "Ấn phẩm về cải cách hành chính",
    ]
    static let forms = ["HT01", "HT02", "HT03", "HT04", "HT05", "HT06", "HT08", "HT09"]
    static let contents = ["ND01", "ND05", "ND05,ND10", "ND10,ND02", "ND11"]
    static let dates = ["2025-12-20", "2026-03-02", "2026-03-14", "2026-03-15", "2026-06-30"]

    let seed: UInt64
    var rng: SeededRandom
    var replicas: [StoreReplica] = []
    /// What each op's writer knew when it wrote it (its own earlier ops included).
    var seen: [Dot: VersionVector] = [:]
    var clock: UInt64 = 1_893_456_000_000  // 2030-01-01: after the wall clock that `initialise` reads
    var heldBack = 0

    init(seed: UInt64) throws {
        self.seed = seed
        rng = SeededRandom(seed: seed)
        var units = Array(repeating: "TTQLCK", count: rng.int(2...4)) + Array(repeating: "VP", count: rng.int(1...2))
        if rng.chance(0.5) { units.append("CPCM-QLDTDN") }
        if units.count < 3 { units.append("TTQLCK") }
        var ids = Set<String>()
        while ids.count < units.count { ids.insert(String(format: "%08x", UInt32.random(in: 0x1000_0000...UInt32.max, using: &rng))) }
        for (id, unit) in zip(ids.sorted(), rng.shuffle(units)) {
            let store = try ReplicaStore.inMemory()
            let rid = ReplicaID(id)!
            try store.initialise(identity: .init(replica: rid, unit: unit), label: "máy \(unit)")
            for op in try Self.logOps(store) {
                var vv = VersionVector()
                if op.dot.origin == .genesis {
                    vv[.genesis] = op.dot.counter - 1
                } else {
                    vv = try store.versionVector()
                    vv[op.dot.origin] = op.dot.counter - 1
                }
                seen[op.dot] = vv
            }
            replicas.append(StoreReplica(store: store, id: rid, unit: unit, skew: rng.int(-30...30)))
        }
    }

    /// Every op of a store's log: the plan's seed (which stores never send) and the rest.
    static func logOps(_ s: ReplicaStore) throws -> [Op] {
        Genesis.ops(catalog: s.catalog) + (try s.ops(after: VersionVector()).ops)
    }

    // MARK: Local writes

    var units: [String] { Array(Set(replicas.map(\.unit))).sorted() }

    mutating func nowMillis(_ r: Int) -> UInt64 { UInt64(Int(clock) + replicas[r].skew) }

    /// Runs a local write and records what the writer knew for each op it produced.
    mutating func local(_ r: Int, _ body: (ReplicaStore, UInt64) throws -> Void) throws {
        let s = replicas[r].store
        let before = try s.versionVector()
        try body(s, nowMillis(r))
        for op in try s.ops(after: before).ops {
            #expect(op.dot.origin == replicas[r].id, "seed \(seed): a local write produced a foreign op")
            var vv = before
            vv[op.dot.origin] = op.dot.counter - 1
            seen[op.dot] = vv
        }
    }

    mutating func randomTitle() -> String { rng.pick(Self.titles) }

    mutating func activityChanges(full: Bool) -> [(String, Value)] {
        var c: [(String, Value)] = []
        if full || rng.chance(0.5) { c.append(("title", .text(randomTitle()))) }
        if full || rng.chance(0.3) { c.append(("quantity", .int(Int64(rng.int(0...3))))) }
        if full || rng.chance(0.2) { c.append(("date", .text(rng.pick(Self.dates)))) }
        if full || rng.chance(0.2) { c.append(("content", .text(rng.pick(Self.contents)))) }
        if rng.chance(0.2) { c.append(("participants", rng.chance(0.2) ? .null : .int(Int64(rng.int(0...200))))) }
        if rng.chance(0.2) { c.append(("note", rng.chance(0.3) ? .null : .text("ghi chú \(rng.int(1...3))"))) }
        if rng.chance(0.1) { c.append(("url", .text("https://bqlkktck.langson.gov.vn/tin/\(rng.int(1...3))"))) }
        if c.isEmpty { c.append(("title", .text(randomTitle()))) }
        return c
    }

    mutating func step() throws {
        clock += UInt64(rng.int(0...2))
        let r = rng.int(0...(replicas.count - 1))
        let me = replicas[r]
        let roll = rng.int(0...99)
        switch roll {
        case 0..<10:
            var changes: [(String, Value)] = [("unit", .text(me.unit)), ("form", .text(rng.pick(Self.forms)))]
            changes += activityChanges(full: true)
            // An item the Office added, once this replica has received it.
            if rng.chance(0.3), let plan = try me.store.planBook().plan(year: 2026), plan.contentItem("ND12") != nil {
                changes = changes.filter { $0.0 != "content" } + [("content", .text("ND05,ND12"))]
            }
            changes += [("recorded", .text("2026-03-02T08:00:00Z")), ("deleted", .int(0))]
            try local(r) { s, now in _ = try s.createRecord(kind: .activity, owner: me.unit, changes: changes, nowMillis: now) }
        case 10..<38:
            guard let id = try favouredActivity(me) else { return }
            let changes = activityChanges(full: false)
            try local(r) { s, now in try s.writeRecord(id, changes: changes, nowMillis: now) }
        case 38..<46:
            guard let id = try favouredActivity(me) else { return }
            try local(r) { s, now in try s.writeRecord(id, changes: [], delete: true, nowMillis: now) }
        case 46..<54:
            try resolveOne(r)
        case 54..<66:
            try updateTask(r)
        case 66..<70:
            try amendPlan(r)
        default:
            try exchange(from: rng.int(0...(replicas.count - 1)), to: r)
        }
    }

    /// A live activity of the replica's unit, most often the oldest, so that replicas of the
    /// same unit edit the same records concurrently.
    mutating func favouredActivity(_ me: StoreReplica) throws -> RecordID? {
        let list = try me.store.activities(unit: me.unit).map(\.id).sorted()
        guard !list.isEmpty else { return nil }
        return try RecordID.parse(rng.chance(0.6) ? list[0] : rng.pick(list))
    }

    /// Resolves a conflict this replica may write, as `conflicts resolve` does (keep one value or
    /// set a new one), superseding every survivor.
    mutating func resolveOne(_ r: Int) throws {
        let me = replicas[r]
        let office = me.store.catalog.officeCode
        let writable = try me.store.conflicts().filter { c in
            guard let id = try? RecordID.parse(c.record) else { return false }
            switch id.kind {
            case .activity, .report: return id.owner == me.unit
            case .task: return me.unit == office || (id.owner == me.unit && (c.field == "status" || c.field == "note"))
            case .plan, .directive, .draft: return me.unit == office
            case .replica: return false
            }
        }
        guard !writable.isEmpty else { return }
        let c = rng.pick(writable)
        let id = try RecordID.parse(c.record)
        let chosen: Value
        if c.field == "deleted" {
            chosen = .int(rng.pick(c.candidates).value == .int(1) ? 1 : 0)
        } else if c.field == "title" && rng.chance(0.3) {
            chosen = .text(randomTitle())
        } else {
            chosen = rng.pick(c.candidates).value
        }
        try local(r) { s, now in try s.writeRecord(id, changes: [(c.field, chosen)], resolve: true, nowMillis: now) }
    }

    /// The Office amends the plan: adds ND12 (two Office machines may add it concurrently, with
    /// different titles: a conflict), retitles an entry, retires ND09 or adds a duty for a unit.
    mutating func amendPlan(_ r: Int) throws {
        let me = replicas[r]
        guard me.unit == me.store.catalog.officeCode else { return }
        let plan = try me.store.planBook().plan(year: 2026)
        let title = randomTitle()
        switch rng.int(0...3) {
        case 0 where plan?.contentItem("ND12") == nil:
            try local(r) { s, now in try s.amendPlan(year: 2026, [.addContent(code: "ND12", title: title, from: nil)], nowMillis: now) }
        case 1:
            let code = rng.pick(["ND01", "ND12", "HT04", "TN02"])
            try local(r) { s, now in try s.writeRecord(PlanEntries.record(year: 2026, code: code), changes: [("title", .text(title))], nowMillis: now)
            }
        case 2 where plan?.contentItem("ND09")?.retiredOn == nil:
            let day = rng.pick(Self.dates)
            try local(r) { s, now in try s.amendPlan(year: 2026, [.retire(code: "ND09", on: day)], nowMillis: now) }
        case 3 where plan?.duty("TN07") == nil:
            let unit = rng.pick(units)
            try local(r) { s, now in
                try s.amendPlan(year: 2026, [.addDuty(code: "TN07", title: title, units: [unit], from: nil)], nowMillis: now)
            }
        default:
            return
        }
    }

    /// The Office assigns, edits and deletes tasks; a unit updates the status and note of its own.
    mutating func updateTask(_ r: Int) throws {
        let me = replicas[r]
        let isOffice = me.unit == me.store.catalog.officeCode
        let statuses = EntitySchema.taskStatuses
        let tasks = try me.store.tasks(unit: isOffice ? nil : me.unit)
        if isOffice && (tasks.isEmpty || rng.chance(0.15)) {
            let unit = rng.pick(units)
            let changes: [(String, Value)] = [
                ("unit", .text(unit)), ("item", .text(rng.pick(["ND05", "ND10", "TN05"]))), ("title", .text(randomTitle())),
                ("status", .text("chua_thuc_hien")), ("deleted", .int(0)),
            ]
            try local(r) { s, now in _ = try s.createRecord(kind: .task, owner: unit, changes: changes, nowMillis: now) }
            return
        }
        guard !tasks.isEmpty else { return }
        // Favour a few tasks so that concurrent edits of the same field happen often.
        let task = rng.chance(0.7) ? tasks[0] : rng.pick(tasks)
        let id = try RecordID.parse(task.id)
        if isOffice && rng.chance(0.1) {
            try local(r) { s, now in try s.writeRecord(id, changes: [], delete: true, nowMillis: now) }
            return
        }
        var changes: [(String, Value)] = []
        if rng.chance(0.6) { changes.append(("status", .text(rng.pick(statuses)))) }
        if rng.chance(0.4) { changes.append(("note", .text("tiến độ \(rng.int(1...4))"))) }
        if isOffice && rng.chance(0.3) { changes.append(("due", .text(rng.pick(Self.dates)))) }
        if changes.isEmpty { changes.append(("status", .text(rng.pick(statuses)))) }
        try local(r) { s, now in try s.writeRecord(id, changes: changes, nowMillis: now) }
    }

    // MARK: Exchange

    /// Sends part of what `from` has to `to`: a random subset (gaps included), shuffled, with
    /// duplicates, in one to three batches; sometimes from an older vector, so much is already known.
    mutating func exchange(from: Int, to: Int) throws {
        guard from != to else { return }
        let dst = replicas[to].store
        let base = rng.chance(0.25) ? VersionVector() : try dst.versionVector()
        let sent = try replicas[from].store.ops(after: base)
        var ops = sent.ops
        // Ops apply only up to a head their author signed: half the exchanges carry everything
        // (as sync does), the others a random subset whose gaps hold back what follows them.
        let keep = rng.chance(0.5) ? 1.0 : Double(rng.int(3...10)) / 10
        ops = ops.filter { _ in rng.chance(keep) }
        for _ in 0..<rng.int(0...3) where !ops.isEmpty { ops.append(rng.pick(ops)) }
        ops = rng.shuffle(ops)
        let batches = rng.int(1...3)
        for b in 0..<batches {
            let part = stride(from: b, to: ops.count, by: batches).map { ops[$0] }
            let report = try dst.apply(OpBatch(ops: part, heads: rng.shuffle(sent.heads)), source: Self.peer)
            heldBack += report.heldBack
        }
        try checkVectorBacked(to)
        // Any other replica that now knows exactly the same ops has a byte-identical dump.
        let vv = try dst.versionVector()
        for (i, other) in replicas.enumerated() where i != to {
            if try other.store.versionVector() == vv {
                let a = try dst.dump().json()
                let b = try other.store.dump().json()
                if a != b { throw HistoryFailure("replicas \(replicas[to].id) and \(other.id) know the same ops but dump differently") }
            }
        }
    }

    /// A replica never claims a counter it has not applied: per origin, ops 1…vv[origin] are all there.
    func checkVectorBacked(_ r: Int) throws {
        let s = replicas[r].store
        let vv = try s.versionVector()
        var fromLog = VersionVector()
        for op in try Self.logOps(s) {
            if op.dot.counter != fromLog[op.dot.origin] + 1 {
                throw HistoryFailure(
                    "replica \(replicas[r].id): op log of \(op.dot.origin) jumps from \(fromLog[op.dot.origin]) to \(op.dot.counter)")
            }
            fromLog[op.dot.origin] = op.dot.counter
        }
        if fromLog != vv { throw HistoryFailure("replica \(replicas[r].id): vector \(vv) but op log \(fromLog)") }
    }

    mutating func run() throws {
        for _ in 0..<rng.int(20...70) { try step() }
    }

    // MARK: Final checks

    /// Exchanges everything, then checks the laws; returns the first violation.
    mutating func exchangeAllAndCheck() throws -> String? {
        do {
            try exchangeAll()
            return try checkConverged()
        } catch let f as HistoryFailure {
            return f.message
        }
    }

    mutating func exchangeAll() throws {
        for _ in 0..<3 {
            for to in rng.shuffle(Array(replicas.indices)) {
                for from in rng.shuffle(Array(replicas.indices)) where from != to {
                    let dst = replicas[to].store
                    let sent = try replicas[from].store.ops(after: try dst.versionVector())
                    heldBack += try dst.apply(OpBatch(ops: rng.shuffle(sent.ops), heads: sent.heads), source: Self.peer).heldBack
                }
            }
        }
    }

    func checkConverged() throws -> String? {
        let first = replicas[0].store
        let dump = try first.dump()
        let json = try dump.json()
        let conflicts = try first.conflicts()
        let opCount = try first.opCount()
        for (i, r) in replicas.enumerated() {
            try checkVectorBacked(i)
            if try r.store.dump().json() != json { return "dump of \(r.id) differs from \(replicas[0].id) after full exchange" }
            if try r.store.conflicts() != conflicts { return "conflicts of \(r.id) differ from \(replicas[0].id)" }
            if try r.store.opCount() != opCount { return "op count of \(r.id) differs" }
            if try r.store.pendingCount() != 0 { return "\(r.id) still holds back \(try r.store.pendingCount()) ops" }
        }
        // Re-applying everything, in any order, changes nothing.
        for r in replicas {
            let all = try replicas[replicas.count - 1].store.ops(after: VersionVector())
            let report = try r.store.apply(OpBatch(ops: all.ops.reversed(), heads: all.heads), source: Self.peer)
            if report.applied != 0 || report.heldBack != 0 { return "re-applying everything to \(r.id) applied \(report.applied) ops" }
            if try r.store.dump().json() != json || r.store.opCount() != opCount { return "re-applying everything changed \(r.id)" }
        }
        if let f = try checkTypedRows(dump) { return f }
        return try checkAgainstCausalHistory(dump, ops: try Self.logOps(first))
    }

    /// The typed tables that lists and reports read show each field's winner, on every replica,
    /// and hide deleted records.
    func checkTypedRows(_ dump: CanonicalDump) throws -> String? {
        func winner(_ id: String, _ field: String) -> Value { dump.records[id]?[field]?.value ?? .null }
        func live(_ prefix: String) -> [String] {
            dump.records.keys.filter { $0.hasPrefix(prefix) && winner($0, "deleted") != .int(1) }.sorted()
        }
        let activities = try replicas[0].store.activities()
        let tasks = try replicas[0].store.tasks()
        for r in replicas.dropFirst() {
            if try r.store.activities() != activities { return "activity lists of \(r.id) and \(replicas[0].id) differ" }
            if try r.store.tasks() != tasks { return "task lists of \(r.id) and \(replicas[0].id) differ" }
        }
        if activities.map(\.id).sorted() != live("HD.") { return "activity list \(activities.map(\.id)) ≠ live records \(live("HD."))" }
        if tasks.map(\.id).sorted() != live("NV.") { return "task list \(tasks.map(\.id)) ≠ live records \(live("NV."))" }
        for a in activities {
            let shown: [(String, Value)] = [
                ("title", .text(a.title)), ("date", .text(a.date)), ("form", .text(a.form)), ("content", .text(a.content.joined(separator: ","))),
                ("quantity", a.quantity.map(Value.int) ?? .null), ("participants", a.participants.map(Value.int) ?? .null),
                ("note", a.note.map(Value.text) ?? .null), ("url", a.url.map(Value.text) ?? .null),
            ]
            for (field, value) in shown where value != winner(a.id, field) {
                return "\(a.id).\(field) lists \(value) but the winner is \(winner(a.id, field))"
            }
        }
        for t in tasks {
            let shown: [(String, Value)] = [
                ("status", .text(t.status.rawValue)), ("note", t.note.map(Value.text) ?? .null), ("title", .text(t.title)),
                ("due", t.due.map(Value.text) ?? .null),
            ]
            for (field, value) in shown where value != winner(t.id, field) {
                return "\(t.id).\(field) lists \(value) but the winner is \(winner(t.id, field))"
            }
        }
        return nil
    }

    /// Each field's surviving values are exactly those no writer of that field had seen, shown in
    /// `(HLC, origin)` order with the greatest as the value.
    func checkAgainstCausalHistory(_ dump: CanonicalDump, ops: [Op]) throws -> String? {
        struct Key: Hashable {
            var record: String
            var field: String
        }
        /// Whether `y` puts `x` behind it: its writer had seen `x`, or it supersedes a later dot of `x`'s origin.
        func covers(_ y: Op, _ x: Op) -> Bool {
            y.dot != x.dot
                && ((seen[y.dot]?.contains(x.dot) ?? false) || y.supersedes.contains { $0.origin == x.dot.origin && $0.counter >= x.dot.counter })
        }
        let byKey = Dictionary(grouping: ops) { Key(record: $0.record, field: $0.field) }
        var frontiers: [Key: [Op]] = [:]
        for (key, fieldOps) in byKey {
            let frontier = fieldOps.filter { x in !fieldOps.contains { y in covers(y, x) } }
                .sorted { ($0.hlc, $0.dot.origin, $0.dot.counter) > ($1.hlc, $1.dot.origin, $1.dot.counter) }
            frontiers[key] = frontier
            guard let state = dump.records[key.record]?[key.field] else { return "\(key.record).\(key.field) missing from the dump" }
            guard let winner = frontier.first else { return "\(key.record).\(key.field): no frontier" }
            if state.value != winner.value {
                return "\(key.record).\(key.field) = \(state.value) but the greatest (HLC, origin) unseen value is \(winner.value) (\(winner.dot))"
            }
            let dots = state.conflict?.map(\.dot) ?? [winner.dot.description]
            if dots != frontier.map(\.dot.description) {
                return "\(key.record).\(key.field): survivors \(dots) but the values no writer saw are \(frontier.map(\.dot.description))"
            }
        }
        // A deleted record whose edit no writer of `deleted` had seen lists that edit for review:
        // a delete concurrent with an edit is never a silent loss.
        for (key, deletes) in byKey where key.field == "deleted" && dump.records[key.record]?["deleted"]?.value == .int(1) {
            for (other, frontier) in frontiers where other.record == key.record && other.field != "deleted" {
                for edit in frontier where !deletes.contains(where: { covers($0, edit) }) {
                    let listed = dump.records[key.record]?["deleted"]?.concurrentEdits ?? []
                    if !listed.contains("\(other.field)@\(edit.dot)") {
                        let trace = deletes.map { "\($0.dot)=\($0.value) seen \(seen[$0.dot]?.description ?? "?") s \($0.supersedes)" }
                        return
                            "\(key.record) is deleted, but the concurrent edit \(other.field)@\(edit.dot) is not listed (\(listed)); deletes: \(trace); edit hlc \(edit.hlc.rawValue)"
                    }
                }
            }
        }
        return nil
    }
}

struct HistoryFailure: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
