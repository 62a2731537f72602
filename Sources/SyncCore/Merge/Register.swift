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
    /// Highest superseded counter per origin.
    public private(set) var context: [ReplicaID: UInt64]

    public init(survivors: [Version] = [], context: [ReplicaID: UInt64] = [:]) {
        self.survivors = survivors.sorted(by: Version.precedes)
        self.context = context
    }

    public var winner: Version? { survivors.first }
    public var isConflicted: Bool { survivors.count > 1 }

    /// Whether a known op superseded this dot.
    public func covers(_ dot: Dot) -> Bool { dot.counter <= (context[dot.origin] ?? 0) }

    /// What applying one op did to the register.
    public enum Outcome: Equatable, Sendable {
        /// Nothing changed (a duplicate, or an op already superseded with nothing new to say).
        case unchanged
        /// The survivors changed; `winnerChanged` tells whether the visible value may differ.
        case changed(winnerChanged: Bool)
    }

    /// Applies one op: its version and the dots it supersedes. Pure; idempotent; commutative.
    public mutating func apply(_ version: Version, supersedes: [Dot]) -> Outcome {
        let oldSurvivors = survivors
        let oldContext = context
        for d in supersedes where d.counter > (context[d.origin] ?? 0) {
            context[d.origin] = d.counter
        }
        if !covers(version.dot) && !survivors.contains(where: { $0.dot == version.dot }) {
            let at = survivors.firstIndex { Version.precedes(version, $0) } ?? survivors.endIndex
            survivors.insert(version, at: at)
        }
        if context != oldContext {
            let ctx = context
            survivors.removeAll { $0.dot.counter <= (ctx[$0.dot.origin] ?? 0) }
        }
        if survivors == oldSurvivors {
            return context == oldContext ? .unchanged : .changed(winnerChanged: false)
        }
        return .changed(winnerChanged: survivors.first != oldSurvivors.first)
    }

    /// The dots a writer who sees this register supersedes when it writes the field.
    public var survivorDots: [Dot] { survivors.map(\.dot) }
}
