import Foundation
import Testing

@testable import SyncCore

/// Property tests of the pure merge (`Register`) on randomized histories (docs/SYNC-CONTRACT.md, "Laws").
///
/// A history: 3–8 replicas write creates, edits and deletes on a few records, each write
/// superseding what its writer sees; replicas learn each other's ops per origin in counter order
/// (partially, in any pattern, so knowledge is not causally closed). Observers then receive
/// arbitrary subsets of all ops in random order with duplicates. The laws checked:
/// - two observers that applied the same set of ops have identical registers;
/// - applying an op again changes nothing;
/// - every concurrent value survives (no known op saw it ⇒ it is a survivor);
/// - a write that follows another (its writer had seen it) always wins over it, and once the
///   observer's knowledge is causally closed the earlier value no longer survives at all;
/// - the winner is the greatest `(HLC, origin)` among the values no known op saw;
/// - `Outcome` tells exactly whether the register and its winner changed.
///
/// Soak: `CCHC_SOAK_HISTORIES=100000 swift test -c release --filter RegisterLawTests`.
/// Replay one seed: `CCHC_SEED=<seed> swift test --filter RegisterLawTests`.
@Suite struct RegisterLawTests {
    static let parts = 8
    static let seeds = PropertyRuns.seeds(default: 1_200, base: 0x5EED_0000_0000)

    @Test("Luật hợp nhất trên lịch sử ngẫu nhiên / merge laws on random histories", arguments: 0..<parts)
    func mergeLaws(part: Int) {
        let slice = PropertyRuns.slices(Self.seeds, parts: Self.parts)
        guard part < slice.count else { return }
        var failures = 0
        for seed in slice[part] {
            var history = RegisterHistory(seed: seed)
            history.run()
            let failure = history.checkLaws()
            #expect(failure == nil, "seed \(seed) (replay: CCHC_SEED=\(seed)): \(failure ?? "")")
            if failure != nil {
                failures += 1
                if failures >= 5 { return }
            }
        }
    }

    @Test("Một ví dụ cụ thể: sửa sau thắng, sửa đồng thời giữ cả hai / a worked example")
    func workedExample() {
        let a = ReplicaID("aaaa")!
        let b = ReplicaID("bbbb")!
        // Given A writes, B sees it and writes after it, and A writes again without seeing B.
        let a1 = Version(dot: Dot(a, 1), hlc: HLC(millis: 10, logical: 0))
        let b1 = Version(dot: Dot(b, 1), hlc: HLC(millis: 11, logical: 0))
        let a2 = Version(dot: Dot(a, 2), hlc: HLC(millis: 12, logical: 0))
        var r = Register()
        // When they arrive in any order,
        _ = r.apply(a2, supersedes: [Dot(a, 1)])
        _ = r.apply(b1, supersedes: [Dot(a, 1)])
        #expect(r.apply(a1, supersedes: []) == .unchanged, "a1 is already superseded")
        // Then a1 is gone, b1 and a2 are concurrent and both survive, and the later HLC wins.
        #expect(r.survivorDots == [Dot(a, 2), Dot(b, 1)])
        #expect(r.winner?.dot == Dot(a, 2))
        #expect(r.isConflicted)
        // And a write that saw both resolves the conflict.
        let b2 = Version(dot: Dot(b, 2), hlc: HLC(millis: 13, logical: 0))
        #expect(r.apply(b2, supersedes: r.survivorDots) == .changed(winnerChanged: true))
        #expect(r.survivorDots == [Dot(b, 2)])
        #expect(r.apply(b2, supersedes: [Dot(a, 2), Dot(b, 1)]) == .unchanged)
    }

    @Test("Cùng HLC: bản sao lớn hơn thắng / equal HLC: greater origin wins")
    func tieBreakByOrigin() {
        let t = HLC(millis: 5, logical: 3)
        let low = Version(dot: Dot(ReplicaID("aaaa")!, 7), hlc: t)
        let high = Version(dot: Dot(ReplicaID("zzzz")!, 1), hlc: t)
        var x = Register()
        _ = x.apply(low, supersedes: [])
        _ = x.apply(high, supersedes: [])
        var y = Register()
        _ = y.apply(high, supersedes: [])
        _ = y.apply(low, supersedes: [])
        #expect(x == y)
        #expect(x.winner == high)
        #expect(x.survivors == [high, low])
    }
}

// MARK: - The simulated history

/// One op of a simulated history, with what its writer knew when it wrote it.
struct SimOp {
    var dot: Dot
    var hlc: HLC
    var key: RegisterKey
    var supersedes: [Dot]
    /// The writer's knowledge at write time (its own earlier ops included).
    var seen: [ReplicaID: UInt64]

    var version: Version { Version(dot: dot, hlc: hlc) }

    /// Whether this op puts `dot` behind it: its writer had seen it, or it supersedes a later dot
    /// of the same origin (a delete carries the context its writer learnt from others' ops).
    func covers(_ dot: Dot) -> Bool {
        (seen[dot.origin] ?? 0) >= dot.counter || supersedes.contains { $0.origin == dot.origin && $0.counter >= dot.counter }
    }
}

/// One field of one record.
struct RegisterKey: Hashable, Comparable {
    var record: Int
    var field: Int

    static func < (a: RegisterKey, b: RegisterKey) -> Bool { (a.record, a.field) < (b.record, b.field) }
}

/// A replica of the simulation: what it knows (a counter prefix per origin) and its registers.
struct SimReplica {
    var id: ReplicaID
    var known: [ReplicaID: UInt64] = [:]
    var registers: [RegisterKey: Register] = [:]
    var hlc = HLC.zero
    var skew: Int

    mutating func learn(_ op: SimOp) {
        _ = registers[op.key, default: Register()].apply(op.version, supersedes: op.supersedes)
        known[op.dot.origin] = op.dot.counter
        hlc = HLC.receive(last: hlc, remote: op.hlc)
    }
}

struct RegisterHistory {
    /// Field 0 and 1 are ordinary fields; the last one is `deleted`.
    static let fieldCount = 3
    static let deletedField = 2

    let seed: UInt64
    var rng: SeededRandom
    var replicas: [SimReplica] = []
    var log: [ReplicaID: [SimOp]] = [:]
    var records = 0
    var now: UInt64 = 1_000

    init(seed: UInt64) {
        self.seed = seed
        rng = SeededRandom(seed: seed)
        let n = rng.int(3...8)
        var ids = Set<String>()
        while ids.count < n { ids.insert(String(format: "r%03x", rng.int(0...0xfff))) }
        for id in ids.sorted() {
            replicas.append(SimReplica(id: ReplicaID(id)!, skew: rng.int(-3...3)))
        }
        replicas = rng.shuffle(replicas)
    }

    /// Every op, in dot order (never in dictionary order: the history must replay from its seed).
    var allOps: [SimOp] { log.values.flatMap { $0 }.sorted { $0.dot < $1.dot } }

    // MARK: Writing

    mutating func write(_ r: Int, key: RegisterKey, delete: Bool) {
        var me = replicas[r]
        let reg = me.registers[key] ?? Register()
        var supersedes = reg.survivorDots
        if delete {
            // Mirrors ApplySession.makeLocalOps: a delete supersedes what the writer sees of every
            // field of the record, plus the `deleted` register's context.
            var seen = Set<Dot>()
            for f in 0..<Self.fieldCount {
                for d in me.registers[RegisterKey(record: key.record, field: f)]?.survivorDots ?? [] { seen.insert(d) }
            }
            for (o, c) in reg.context { seen.insert(Dot(o, c)) }
            supersedes = seen.sorted()
        }
        let counter = (me.known[me.id] ?? 0) + 1
        let wall = UInt64(max(0, Int(now) + me.skew))
        let hlc = HLC.tick(last: me.hlc, nowMillis: wall)
        me.hlc = hlc
        let op = SimOp(dot: Dot(me.id, counter), hlc: hlc, key: key, supersedes: supersedes, seen: me.known)
        log[me.id, default: []].append(op)
        me.learn(op)
        replicas[r] = me
    }

    /// Replica `to` learns ops from replica `from`: for a random subset of origins, a random part
    /// of what it lacks, always in counter order (as storage applies them).
    mutating func deliver(from: Int, to: Int) {
        let source = replicas[from].known
        var target = replicas[to]
        let everything = rng.chance(0.4)
        for (origin, have) in source.sorted(by: { $0.key < $1.key }) {
            let start = target.known[origin] ?? 0
            guard have > start, everything || rng.chance(0.6) else { continue }
            let upTo = everything ? have : UInt64(rng.int(Int(start) + 1...Int(have)))
            for op in log[origin, default: []][Int(start)..<Int(upTo)] { target.learn(op) }
        }
        replicas[to] = target
    }

    mutating func run() {
        let steps = rng.int(10...60)
        let recordLimit = rng.int(1...4)
        for _ in 0..<steps {
            now += UInt64(rng.int(0...2))
            let r = rng.int(0...(replicas.count - 1))
            let known = Set(replicas[r].registers.keys.map(\.record)).sorted()
            switch rng.int(0...9) {
            case 0, 1:
                // Create: a new record, or (when at the limit) a write on every field.
                let record = records < recordLimit ? records : rng.int(0...(records - 1))
                records = max(records, record + 1)
                for f in 0..<Self.fieldCount { write(r, key: RegisterKey(record: record, field: f), delete: false) }
            case 2, 3, 4:
                guard let record = known.randomElement(using: &rng) else { continue }
                write(r, key: RegisterKey(record: record, field: rng.int(0...1)), delete: false)
            case 5:
                guard let record = known.randomElement(using: &rng) else { continue }
                // A delete, or an undelete / resolution of the `deleted` field.
                write(r, key: RegisterKey(record: record, field: Self.deletedField), delete: rng.chance(0.7))
            default:
                let from = rng.int(0...(replicas.count - 1))
                if from != r { deliver(from: from, to: r) }
            }
        }
    }

    // MARK: Observers and laws

    /// Applies `ops` to a fresh observer one by one, checking each outcome and, at random
    /// checkpoints, the laws on what it knows so far.
    mutating func observe(_ ops: [SimOp]) -> (registers: [RegisterKey: Register], failure: String?) {
        var registers: [RegisterKey: Register] = [:]
        var knownSoFar: [Dot: SimOp] = [:]
        for (i, op) in ops.enumerated() {
            let before = registers[op.key] ?? Register()
            var after = before
            let outcome = after.apply(op.version, supersedes: op.supersedes)
            registers[op.key] = after
            let wasKnown = knownSoFar.updateValue(op, forKey: op.dot) != nil
            if before == after {
                if outcome != .unchanged { return (registers, "op \(op.dot): nothing changed but outcome is \(outcome)") }
            } else {
                if wasKnown { return (registers, "re-applying \(op.dot) changed the register") }
                if outcome != .changed(winnerChanged: before.winner != after.winner) {
                    return (
                        registers,
                        "op \(op.dot): outcome \(outcome) but winner \(String(describing: before.winner)) → \(String(describing: after.winner))"
                    )
                }
            }
            if i == ops.count - 1 || rng.chance(0.15) {
                if let f = Self.checkKnowledge(Array(knownSoFar.values), registers) { return (registers, "after \(i + 1) ops: \(f)") }
            }
        }
        return (registers, nil)
    }

    /// The laws that hold for any set of known ops, and the stronger one for a causally closed set.
    static func checkKnowledge(_ known: [SimOp], _ registers: [RegisterKey: Register]) -> String? {
        let byKey = Dictionary(grouping: known, by: \.key)
        let dots = Set(known.map(\.dot))
        let closed = known.allSatisfy { op in op.seen.allSatisfy { o, c in c == 0 || (1...c).allSatisfy { dots.contains(Dot(o, $0)) } } }
        for (key, ops) in byKey {
            let reg = registers[key] ?? Register()
            // The values no known op of this field puts behind it: the concurrent frontier.
            let frontier = ops.filter { x in !ops.contains { $0.dot != x.dot && $0.covers(x.dot) } }
            let survivors = Set(reg.survivorDots)
            for x in frontier where !survivors.contains(x.dot) {
                return "\(key): concurrent value \(x.dot) was lost (survivors \(reg.survivorDots))"
            }
            for s in reg.survivors where !dots.contains(s.dot) {
                return "\(key): survivor \(s.dot) was never applied"
            }
            // Computed here, not with `Version.precedes`, so that a wrong order in the code under test shows.
            let expectedWinner = frontier.map(\.version).max { ($0.hlc, $0.dot.origin) < ($1.hlc, $1.dot.origin) }
            if reg.winner != expectedWinner {
                return
                    "\(key): winner \(String(describing: reg.winner?.dot)) but greatest (HLC, origin) of the frontier is \(String(describing: expectedWinner?.dot))"
            }
            let descending = reg.survivors.sorted { ($0.hlc, $0.dot.origin, $0.dot.counter) > ($1.hlc, $1.dot.origin, $1.dot.counter) }
            if reg.survivors != descending {
                return "\(key): survivors not in (HLC, origin) order"
            }
            if closed && survivors != Set(frontier.map(\.dot)) {
                return "\(key): causally closed knowledge, survivors \(reg.survivorDots.sorted()) ≠ frontier \(frontier.map(\.dot).sorted())"
            }
        }
        return nil
    }

    /// Replays the history to observers and checks every law; returns the first violation.
    mutating func checkLaws() -> String? {
        let all = allOps
        // Every writer's own registers obey the laws on what it knows.
        for r in replicas {
            let known = all.filter { (r.known[$0.dot.origin] ?? 0) >= $0.dot.counter }
            if let f = Self.checkKnowledge(known, r.registers) { return "writer \(r.id): \(f)" }
        }
        // Two observers get the same subset in different orders, with duplicates.
        let keep = Double(rng.int(2...10)) / 10
        let subset = all.filter { _ in rng.chance(keep) }
        let first = observe(withDuplicates(rng.shuffle(subset)))
        if let f = first.failure { return "observer 1: \(f)" }
        let second = observe(withDuplicates(rng.shuffle(subset)))
        if let f = second.failure { return "observer 2: \(f)" }
        if first.registers.filter({ $0.value != Register() }) != second.registers.filter({ $0.value != Register() }) {
            return "two observers of the same \(subset.count) ops differ"
        }
        // Re-applying anything known changes nothing.
        var again = first.registers
        for op in rng.shuffle(subset) {
            if again[op.key, default: Register()].apply(op.version, supersedes: op.supersedes) != .unchanged {
                return "re-applying \(op.dot) changed the register"
            }
        }
        if again != first.registers { return "re-applying the ops changed the registers" }
        // The causal closure of a random subset, and everything, in any order.
        let closure = causalClosure(of: all.filter { _ in rng.chance(0.3) })
        if let f = observe(rng.shuffle(closure)).failure { return "closed observer: \(f)" }
        let full = observe(withDuplicates(rng.shuffle(all)))
        if let f = full.failure { return "full observer: \(f)" }
        let fullAgain = observe(rng.shuffle(all))
        if full.registers != fullAgain.registers { return "two observers of every op differ" }
        return nil
    }

    mutating func withDuplicates(_ ops: [SimOp]) -> [SimOp] {
        guard !ops.isEmpty else { return ops }
        var out = ops
        for _ in 0..<rng.int(0...max(1, ops.count / 3)) {
            out.insert(rng.pick(ops), at: rng.int(0...out.count))
        }
        return out
    }

    /// The ops plus everything their writers had seen, transitively.
    func causalClosure(of ops: [SimOp]) -> [SimOp] {
        var vv: [ReplicaID: UInt64] = [:]
        for op in ops { vv[op.dot.origin] = max(vv[op.dot.origin] ?? 0, op.dot.counter) }
        var changed = true
        while changed {
            changed = false
            for (origin, upTo) in vv {
                for op in log[origin, default: []].prefix(Int(upTo)) {
                    for (o, c) in op.seen where c > (vv[o] ?? 0) {
                        vv[o] = c
                        changed = true
                    }
                }
            }
        }
        return allOps.filter { (vv[$0.dot.origin] ?? 0) >= $0.dot.counter }
    }
}
