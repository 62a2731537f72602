import Testing

@testable import SyncCore

/// The register as it was first written, with survivors and context in plain arrays: the
/// reference model for the inline-storage `Register` (same algorithm, simplest data).
struct ArrayRegister: Hashable {
    /// Survivors in `Version.precedes` order; the first is the winner.
    private(set) var survivors: [Version]
    /// Highest superseded counter per origin, sorted by origin. The context rarely names more than
    /// one to three origins, so a sorted array beats a dictionary (no hashing, one small buffer)
    /// and its order makes equality the same as the dictionary's.
    private(set) var contextEntries: [Dot]

    init(survivors: [Version] = [], context: [ReplicaID: UInt64] = [:]) {
        self.survivors = survivors.sorted(by: Version.precedes)
        self.contextEntries = context.map { Dot($0.key, $0.value) }.sorted { $0.origin < $1.origin }
    }

    /// A register read back from storage: survivors and context entries as they were encoded
    /// (already in order, unless the bytes were written otherwise).
    init(decodedSurvivors survivors: [Version], context: [Dot]) {
        var survivors = survivors
        if survivors.count > 1 { survivors.sort(by: Version.precedes) }
        var context = context
        if context.count > 1 { context.sort { $0.origin < $1.origin } }
        self.survivors = survivors
        self.contextEntries = context
    }

    /// Highest superseded counter per origin.
    var context: [ReplicaID: UInt64] {
        Dictionary(uniqueKeysWithValues: contextEntries.map { ($0.origin, $0.counter) })
    }

    var winner: Version? { survivors.first }
    var isConflicted: Bool { survivors.count > 1 }

    /// The highest superseded counter of `origin` (0: none).
    @inline(__always)
    func contextCounter(_ origin: ReplicaID) -> UInt64 {
        for e in contextEntries where e.origin == origin { return e.counter }
        return 0
    }

    /// Whether a known op superseded this dot.
    func covers(_ dot: Dot) -> Bool { dot.counter <= contextCounter(dot.origin) }

    /// Raises the context of `dot.origin` to `dot.counter`; true when it rose.
    private mutating func raiseContext(_ dot: Dot) -> Bool {
        var i = 0
        while i < contextEntries.count {
            let o = contextEntries[i].origin
            if o == dot.origin {
                if dot.counter <= contextEntries[i].counter { return false }
                contextEntries[i].counter = dot.counter
                return true
            }
            if dot.origin < o { break }
            i += 1
        }
        if dot.counter == 0 { return false }
        contextEntries.insert(dot, at: i)
        return true
    }

    /// What applying one op did to the register.
    typealias Outcome = Register.Outcome

    /// Applies one op: its version and the dots it supersedes. Pure; idempotent; commutative.
    mutating func apply(_ version: Version, supersedes: [Dot]) -> Outcome {
        let oldWinner = survivors.first
        var contextChanged = false
        for d in supersedes where raiseContext(d) { contextChanged = true }
        // The new version is inserted only when it is neither covered nor present, and a version
        // inserted after the context rose is never removed below: so the survivors changed
        // exactly when one was inserted or one was removed.
        var survivorsChanged = false
        if !covers(version.dot) && !survivors.contains(where: { $0.dot == version.dot }) {
            let at = survivors.firstIndex { Version.precedes(version, $0) } ?? survivors.endIndex
            survivors.insert(version, at: at)
            survivorsChanged = true
        }
        if contextChanged {
            let before = survivors.count
            let entries = contextEntries
            survivors.removeAll { v in entries.contains { $0.origin == v.dot.origin && v.dot.counter <= $0.counter } }
            if survivors.count != before { survivorsChanged = true }
        }
        if !survivorsChanged {
            return contextChanged ? .changed(winnerChanged: false) : .unchanged
        }
        return .changed(winnerChanged: survivors.first != oldWinner)
    }

    /// The dots a writer who sees this register supersedes when it writes the field.
    var survivorDots: [Dot] { survivors.map(\.dot) }
}

@Suite struct RegisterStorageTests {
    @Test("Register lưu gọn khớp mô hình mảng trên chuỗi thao tác ngẫu nhiên / the inline register matches the array model")
    func matchesArrayModel() {
        var rng = SplitMix64(seed: 0x5EED_2026)
        let origins = ["a001", "b002", "c003", "d004"].map { ReplicaID($0)! }
        for _ in 0..<20_000 {
            var fast = Register()
            var model = ArrayRegister()
            var counters = [ReplicaID: UInt64]()
            var written: [Dot] = []
            for _ in 0..<(1 + rng.below(12)) {
                let o = origins[rng.below(origins.count)]
                // Mostly fresh ops, sometimes a replay of an earlier dot (duplicates and stale ops).
                let counter: UInt64
                if !written.isEmpty && rng.below(5) == 0 {
                    counter = written[rng.below(written.count)].counter
                } else {
                    counters[o, default: 0] += UInt64(1 + rng.below(3))
                    counter = counters[o]!
                }
                let dot = Dot(o, counter)
                written.append(dot)
                var supersedes: [Dot] = []
                for _ in 0..<rng.below(4) where !written.isEmpty {
                    let d = written[rng.below(written.count)]
                    if d != dot { supersedes.append(d) }
                }
                if rng.below(3) == 0 { supersedes += fast.survivorDots.filter { $0 != dot } }
                let version = Version(dot: dot, hlc: HLC(millis: UInt64(1_000 + rng.below(20)), logical: 0))
                let a = fast.apply(version, supersedes: supersedes)
                let b = model.apply(version, supersedes: supersedes)
                #expect(a == b)
                #expect(fast.survivors == model.survivors && fast.contextEntries == model.contextEntries)
                #expect(fast.winner == model.winner && fast.isConflicted == model.isConflicted && fast.survivorDots == model.survivorDots)
                #expect(fast.survivorCount == model.survivors.count && fast.contextCount == model.contextEntries.count)
                // A register rebuilt from its arrays (as storage reads it) is the same register.
                #expect(Register(decodedSurvivors: fast.survivors, context: fast.contextEntries) == fast)
                if a != b || fast.survivors != model.survivors { return }
            }
        }
    }
}
