import Foundation

/// Decides which activities a period's report counts, given when each unit submitted its own
/// period reports (rule of the late entry, "nhập muộn"):
///
/// - An activity of unit U dated inside period P's window is counted in P, unless U had already
///   submitted its report for P when the activity was recorded (`recorded > submitted_at`).
/// - Such a late activity rolls into the report of P's successor (`ReportPeriod.next`: Q1→Q2→Q3→Q4→Q1
///   of the next year, H1→Q3, Y→Q1 of the next year) and is flagged there as late, naming the
///   period it belonged to. If U had already submitted that successor too, it rolls on again.
/// - Ad-hoc (đột xuất) windows count every activity dated inside them: they are not part of the
///   submission cycle, so nothing is late for them and nothing rolls into them.
///
/// Because H1 and Y overlap the quarters, an activity late for Q1 (rolled into Q2) is still
/// counted on time in H1 when it was recorded before the unit submitted H1.
public struct LateEntryRule: Sendable {
    /// Where an activity lands in the target period's report.
    public enum Placement: Sendable, Equatable {
        /// Dated in the period and recorded before the unit's report for it was submitted.
        case onTime
        /// Rolled in from `origin`, the period it is dated in, because it was recorded after the
        /// unit had submitted that period's report.
        case late(origin: String)
        /// Not counted in this period.
        case excluded
    }

    /// A period with its window computed once (windows are compared for every activity).
    final class Node: Sendable {
        let period: ReportPeriod
        let code: String
        let from: String
        let to: String
        let predecessors: [Node]

        init(period: ReportPeriod, calendar: ReportingCalendar, predecessors: [Node]) {
            self.period = period
            self.code = period.description
            let w = calendar.window(period)
            self.from = w.from
            self.to = w.to
            self.predecessors = predecessors
        }
    }

    /// `submitted_at` in epoch milliseconds, by unit then period code; only submitted reports.
    let submissions: [String: [String: Int64]]
    let root: Node

    /// How far back a late entry may have rolled (periods): two years of quarters.
    static let maxDepth = 8

    public init(period: ReportPeriod, reports: [UnitReportRow], calendar: ReportingCalendar = .decree09) {
        var subs: [String: [String: Int64]] = [:]
        for r in reports where r.status == .submitted {
            guard let at = r.submittedAt, let ms = Timestamp.epochMillis(at) else { continue }
            subs[r.unit, default: [:]][r.period] = ms
        }
        self.submissions = subs
        let submittedPeriods = Set(subs.values.flatMap(\.keys))
        func build(_ p: ReportPeriod, depth: Int) -> Node {
            guard depth > 0 else { return Node(period: p, calendar: calendar, predecessors: []) }
            // Only a submitted predecessor can have late entries to pass on.
            let preds = Self.predecessors(of: p).filter { submittedPeriods.contains($0.description) }
            return Node(period: p, calendar: calendar, predecessors: preds.map { build($0, depth: depth - 1) })
        }
        if case .adHoc = period {
            self.root = Node(period: period, calendar: calendar, predecessors: [])
        } else {
            self.root = build(period, depth: Self.maxDepth)
        }
    }

    /// The periods whose late entries roll into `p` (the inverse of `ReportPeriod.next`).
    public static func predecessors(of p: ReportPeriod) -> [ReportPeriod] {
        switch p {
        case .quarter(let y, 1): return [.quarter(y - 1, 4), .year(y - 1)]
        case .quarter(let y, 3): return [.quarter(y, 2), .halfYear(y)]
        case .quarter(let y, 4): return [.quarter(y, 3), .nineMonths(y)]
        case .quarter(let y, let q): return [.quarter(y, q - 1)]
        case .halfYear, .nineMonths, .year, .adHoc: return []
        }
    }

    /// The earliest day an activity counted in this period can be dated.
    public var earliestDay: String {
        func walk(_ n: Node) -> String { n.predecessors.map(walk).reduce(n.from, min) }
        return walk(root)
    }

    /// The last day an activity counted in this period can be dated.
    public var latestDay: String { root.to }

    /// Whether an activity recorded at `recorded` came after the unit (whose submissions are
    /// `subs`) submitted its report for `node`.
    func isLate(_ subs: [String: Int64]?, node: Node, recorded: Int64?) -> Bool {
        if case .adHoc = node.period { return false }
        guard let at = subs?[node.code] else { return false }
        // A timestamp that cannot be read is treated as on time rather than dropped.
        guard let recorded else { return false }
        return recorded > at
    }

    /// The period the activity is dated in, if it reaches `node` on time or by rolling.
    func reach(_ node: Node, subs: [String: Int64]?, day: String, recorded: Int64?) -> String? {
        if day >= node.from && day <= node.to { return node.code }
        for p in node.predecessors {
            if let origin = reach(p, subs: subs, day: day, recorded: recorded), isLate(subs, node: p, recorded: recorded) {
                return origin
            }
        }
        return nil
    }

    /// Where an activity of `unit`, dated `day` and recorded at `recorded` (ISO 8601), lands.
    public func placement(unit: String, day: String, recorded: String) -> Placement {
        // The unit's submissions are looked up once per activity; only a unit with a submitted
        // report can have late entries, so the timestamp is read only then.
        let subs = submissions[unit]
        let ms = subs == nil ? nil : Timestamp.epochMillis(recorded)
        guard let origin = reach(root, subs: subs, day: day, recorded: ms) else { return .excluded }
        if isLate(subs, node: root, recorded: ms) { return .excluded }
        return origin == root.code ? .onTime : .late(origin: origin)
    }
}

/// Fast reading of the ISO 8601 timestamps the clients write (`2026-03-16T08:00:00Z`,
/// optional fraction, `Z` or `±HH:MM`), with Foundation's parser as the fallback.
public enum Timestamp {
    public static func epochMillis(_ s: String) -> Int64? {
        if let v = s.utf8.withContiguousStorageIfAvailable({ parse($0, s) }) { return v }
        let bytes = Array(s.utf8)
        return bytes.withUnsafeBufferPointer { parse($0, s) }
    }

    static func parse(_ b: UnsafeBufferPointer<UInt8>, _ s: String) -> Int64? {
        func num(_ i: Int, _ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in i..<(i + n) {
                let c = b[k]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        if b.count == 10, let y = num(0, 4), let m = num(5, 2), let d = num(8, 2) {
            return CalendarDay.daysSince1970(y, m, d) * 86_400_000
        }
        guard b.count >= 20, b[4] == 45, b[7] == 45, b[10] == 84 || b[10] == 32, b[13] == 58, b[16] == 58,
            let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2), let mi = num(14, 2), let sec = num(17, 2)
        else { return fallback(s) }
        var i = 19
        var millis = 0
        if i < b.count, b[i] == 46 {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 3 { millis = millis * 10 + Int(b[i] - 48) }
                digits += 1
                i += 1
            }
            for _ in min(digits, 3)..<3 { millis *= 10 }
        }
        var offset = 0
        if i < b.count, b[i] == 90 {
            i += 1
        } else if i < b.count, b[i] == 43 || b[i] == 45 {
            let sign = b[i] == 43 ? 1 : -1
            guard let oh = num(i + 1, 2) else { return fallback(s) }
            var om = 0
            if i + 3 < b.count, b[i + 3] == 58, let m2 = num(i + 4, 2) {
                om = m2
                i += 6
            } else if let m2 = num(i + 3, 2) {
                om = m2
                i += 5
            } else {
                i += 3
            }
            offset = sign * (oh * 3600 + om * 60)
        } else {
            return fallback(s)
        }
        guard i == b.count else { return fallback(s) }
        let secs = CalendarDay.daysSince1970(y, mo, d) * 86_400 + Int64(h * 3600 + mi * 60 + sec - offset)
        return secs * 1000 + Int64(millis)
    }

    static func fallback(_ s: String) -> Int64? {
        let f = ISO8601DateFormatter()
        if let d = f.date(from: s) { return Int64((d.timeIntervalSince1970 * 1000).rounded()) }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return Int64((d.timeIntervalSince1970 * 1000).rounded()) }
        return nil
    }
}
