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
///
/// Storage: nearly every register holds one survivor and at most one context entry, so the first
/// of each is kept inline and only the others in arrays, which stay empty (no allocation) unless
/// the field is in conflict or was written by several replicas. The form is canonical (an inline
/// slot is empty only when its array is), so the synthesised equality is the register's equality.
public struct Register: Hashable, Sendable {
    /// The winner: the first survivor in `Version.precedes` order.
    public private(set) var winner: Version?
    /// The other survivors, in order (empty unless the field is in conflict).
    private(set) var losers: [Version]
    /// The context entry of the smallest origin, then the others sorted by origin.
    private(set) var firstContext: Dot?
    private(set) var moreContext: [Dot]

    public init() {
        winner = nil
        losers = []
        firstContext = nil
        moreContext = []
    }

    /// A register read back from storage: survivors and context entries as they were encoded
    /// (already in order, unless the bytes were written otherwise).
    init(decodedSurvivors survivors: [Version], context: [Dot]) {
        var survivors = survivors
        if survivors.count > 1 { survivors.sort(by: Version.precedes) }
        var context = context
        if context.count > 1 { context.sort { $0.origin < $1.origin } }
        winner = survivors.first
        losers = survivors.count > 1 ? Array(survivors.dropFirst()) : []
        firstContext = context.first
        moreContext = context.count > 1 ? Array(context.dropFirst()) : []
    }

    /// A register of one survivor and at most one context entry: built without arrays.
    init(survivor: Version?, context: Dot?) {
        winner = survivor
        losers = []
        firstContext = context
        moreContext = []
    }

    /// Survivors in `Version.precedes` order; the first is the winner.
    public var survivors: [Version] {
        guard let winner else { return [] }
        return [winner] + losers
    }

    public var survivorCount: Int { winner == nil ? 0 : 1 + losers.count }

    /// Highest superseded counter per origin, sorted by origin.
    public var contextEntries: [Dot] {
        guard let firstContext else { return [] }
        return [firstContext] + moreContext
    }

    public var contextCount: Int { firstContext == nil ? 0 : 1 + moreContext.count }

    /// Highest superseded counter per origin.
    public var context: [ReplicaID: UInt64] {
        Dictionary(uniqueKeysWithValues: contextEntries.map { ($0.origin, $0.counter) })
    }

    public var isConflicted: Bool { !losers.isEmpty }

    /// The highest superseded counter of `origin` (0: none).
    @inline(__always)
    func contextCounter(_ origin: ReplicaID) -> UInt64 {
        guard let f = firstContext else { return 0 }
        if f.origin == origin { return f.counter }
        for e in moreContext where e.origin == origin { return e.counter }
        return 0
    }

    /// Whether a known op superseded this dot.
    public func covers(_ dot: Dot) -> Bool { dot.counter <= contextCounter(dot.origin) }

    /// Raises the context of `dot.origin` to `dot.counter`; true when it rose.
    private mutating func raiseContext(_ dot: Dot) -> Bool {
        if dot.counter == 0 { return false }
        guard let f = firstContext else {
            firstContext = dot
            return true
        }
        if f.origin == dot.origin {
            if dot.counter <= f.counter { return false }
            firstContext = dot
            return true
        }
        if dot.origin < f.origin {
            moreContext.insert(f, at: 0)
            firstContext = dot
            return true
        }
        var i = 0
        while i < moreContext.count {
            let o = moreContext[i].origin
            if o == dot.origin {
                if dot.counter <= moreContext[i].counter { return false }
                moreContext[i].counter = dot.counter
                return true
            }
            if dot.origin < o { break }
            i += 1
        }
        moreContext.insert(dot, at: i)
        return true
    }

    /// Whether `dot` is one of the survivors.
    private func survives(_ dot: Dot) -> Bool {
        guard let winner else { return false }
        return winner.dot == dot || losers.contains { $0.dot == dot }
    }

    /// Inserts a version in order.
    private mutating func insert(_ version: Version) {
        guard let w = winner else {
            winner = version
            return
        }
        if Version.precedes(version, w) {
            losers.insert(w, at: 0)
            winner = version
            return
        }
        let at = losers.firstIndex { Version.precedes(version, $0) } ?? losers.endIndex
        losers.insert(version, at: at)
    }

    /// Removes the survivors the context covers; true when one was removed.
    private mutating func removeCovered() -> Bool {
        var removed = false
        if !losers.isEmpty {
            let before = losers.count
            // The context is read through locals, so `losers` stays uniquely referenced (no copy).
            let first = firstContext
            let more = moreContext
            losers.removeAll { v in
                if let f = first, f.origin == v.dot.origin { return v.dot.counter <= f.counter }
                return more.contains { $0.origin == v.dot.origin && v.dot.counter <= $0.counter }
            }
            removed = losers.count != before
        }
        while let w = winner, covers(w.dot) {
            removed = true
            winner = losers.isEmpty ? nil : losers.removeFirst()
        }
        return removed
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
        let oldWinner = winner
        var contextChanged = false
        for d in supersedes where raiseContext(d) { contextChanged = true }
        // The new version is inserted only when it is neither covered nor present, and a version
        // inserted after the context rose is never removed below: so the survivors changed
        // exactly when one was inserted or one was removed.
        var survivorsChanged = false
        if !covers(version.dot) && !survives(version.dot) {
            insert(version)
            survivorsChanged = true
        }
        if contextChanged && removeCovered() { survivorsChanged = true }
        if !survivorsChanged {
            return contextChanged ? .changed(winnerChanged: false) : .unchanged
        }
        return .changed(winnerChanged: winner != oldWinner)
    }

    /// The dots a writer who sees this register supersedes when it writes the field.
    public var survivorDots: [Dot] {
        guard let winner else { return [] }
        if losers.isEmpty { return [winner.dot] }
        return [winner.dot] + losers.map(\.dot)
    }
}
