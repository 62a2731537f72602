/// One surviving value of a field: the op's dot and timestamp. The value itself lives in the op
/// log (and, for the winner, in the typed table), so registers stay small.
public struct Version: Hashable, Sendable {
    public var dot: Dot
    public var hlc: HLC

    public init(dot: Dot, hlc: HLC) {
        self.dot = dot
        self.hlc = hlc
    }

    /// The deterministic order of survivors: greatest `(HLC, origin)` first, counter last.
    public static func precedes(_ a: Version, _ b: Version) -> Bool {
        if a.hlc != b.hlc { return a.hlc > b.hlc }
        if a.dot.origin != b.dot.origin { return a.dot.origin > b.dot.origin }
        return a.dot.counter > b.dot.counter
    }
}

/// A multi-value register: the state of one field.
///
/// `survivors` are the versions that no known op supersedes. `context` summarises every dot that
/// known ops superseded, as the highest counter per origin: a writer that superseded `(o, c)` had
/// seen all of `o` up to `c`, and `o` always supersedes its own earlier writes of the field, so
/// everything of `o` up to `c` is superseded too. Both are functions of the *set* of applied ops,
/// so arrival order and duplicates do not matter.
public struct Register: Hashable, Sendable {
    /// Survivors in `Version.precedes` order; the first is the winner.
    public private(set) var survivors: [Version]
    /// Highest superseded counter per origin, sorted by origin. The context rarely names more than
    /// one to three origins, so a sorted array beats a dictionary (no hashing, one small buffer)
    /// and its order makes equality the same as the dictionary's.
    public private(set) var contextEntries: [Dot]

    public init(survivors: [Version] = [], context: [ReplicaID: UInt64] = [:]) {
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
    public var context: [ReplicaID: UInt64] {
        Dictionary(uniqueKeysWithValues: contextEntries.map { ($0.origin, $0.counter) })
    }

    public var winner: Version? { survivors.first }
    public var isConflicted: Bool { survivors.count > 1 }

    /// The highest superseded counter of `origin` (0: none).
    @inline(__always)
    func contextCounter(_ origin: ReplicaID) -> UInt64 {
        for e in contextEntries where e.origin == origin { return e.counter }
        return 0
    }

    /// Whether a known op superseded this dot.
    public func covers(_ dot: Dot) -> Bool { dot.counter <= contextCounter(dot.origin) }

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
    public enum Outcome: Equatable, Sendable {
        /// Nothing changed (a duplicate, or an op already superseded with nothing new to say).
        case unchanged
        /// The survivors changed; `winnerChanged` tells whether the visible value may differ.
        case changed(winnerChanged: Bool)
    }

    /// Applies one op: its version and the dots it supersedes. Pure; idempotent; commutative.
    public mutating func apply(_ version: Version, supersedes: [Dot]) -> Outcome {
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
    public var survivorDots: [Dot] { survivors.map(\.dot) }
}
