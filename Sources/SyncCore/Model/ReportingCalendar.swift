import Foundation

/// When a plan year's periods close and when the Ban's report is due (docs/REPORTS.md, "Periods
/// as master data"): plan data, read from the plan's heading (`reporting` in a plan file). A plan
/// without one follows Nghị định 09/2019/NĐ-CP: data closes on the 14th of a period's last month, the
/// next period opens on the 15th, the report is due on the 20th.
public struct ReportingCalendar: Codable, Sendable, Hashable {
    /// The act that sets the cut-offs (shown in the report's internal version and `plan show`).
    public var basis: String
    /// The last day of data in a period's last month, 1–31 (31: the month's last day); the next
    /// period opens the day after.
    public var cutoffDay: Int
    /// The day the Ban's report of a period is due: in the period's last month when after the
    /// cut-off, else in the month after.
    public var deadlineDay: Int

    public init(basis: String, cutoffDay: Int, deadlineDay: Int) {
        self.basis = basis
        self.cutoffDay = cutoffDay
        self.deadlineDay = deadlineDay
    }

    public static let decree09 = ReportingCalendar(basis: "Nghị định 09/2019/NĐ-CP", cutoffDay: 14, deadlineDay: 20)

    /// Refuses a calendar a plan file may not carry, naming the field.
    public func validate() throws {
        guard (1...31).contains(cutoffDay) else {
            throw SyncError.invalid("reporting.cutoffDay", String(cutoffDay), "ngày chốt số liệu là một ngày trong tháng, 1–31.")
        }
        guard (1...28).contains(deadlineDay) else {
            throw SyncError.invalid("reporting.deadlineDay", String(deadlineDay), "hạn gửi báo cáo là một ngày trong tháng, 1–28.")
        }
        guard !basis.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw SyncError.invalid("reporting.basis", basis, "cần văn bản quy định thời gian chốt số liệu.")
        }
    }

    /// The last day of data in `month` of `year`.
    func close(_ year: Int, _ month: Int) -> (Int, Int, Int) {
        var y = year
        var m = month
        if m < 1 {
            m += 12
            y -= 1
        }
        return (y, m, min(cutoffDay, CalendarDay.daysIn(year: y, month: m)))
    }

    static func day(_ d: (Int, Int, Int)) -> String { String(format: "%04d-%02d-%02d", d.0, d.1, d.2) }

    /// The day after `d`.
    static func next(_ d: (Int, Int, Int)) -> (Int, Int, Int) {
        if d.2 < CalendarDay.daysIn(year: d.0, month: d.1) { return (d.0, d.1, d.2 + 1) }
        return d.1 == 12 ? (d.0 + 1, 1, 1) : (d.0, d.1 + 1, 1)
    }

    /// The first and last months of a period (the first may be 0: December of the year before).
    static func months(_ p: ReportPeriod) -> (year: Int, first: Int, last: Int)? {
        switch p {
        case .quarter(let y, let q): return (y, 3 * (q - 1) + 1, 3 * q)
        case .halfYear(let y): return (y, 1, 6)
        case .nineMonths(let y): return (y, 1, 9)
        case .year(let y): return (y, 1, 12)
        case .adHoc: return nil
        }
    }

    /// The period's window, inclusive: from the day after the previous period closed to the
    /// cut-off of its last month. The plan year's own bounds (15/12 → 14/12, `PlanBook.window`)
    /// stay: a period opening the year starts on 15/12, one ending it ends on 14/12, so that
    /// every day of the plan year is in one quarter whatever the cut-off.
    public func window(_ p: ReportPeriod) -> (from: String, to: String) {
        guard let m = Self.months(p) else { return p.window }
        let year = PlanBook.window(year: m.year)
        let from = m.first == 1 ? year.from : Self.day(Self.next(close(m.year, m.first - 1)))
        let to = m.last == 12 ? year.to : Self.day(close(m.year, m.last))
        return (from, to)
    }

    /// The day the Ban's report of `p` is due (nil for ad-hoc windows): `deadlineDay` of the month
    /// its window closes in when after the close, else of the month after.
    public func deadline(_ p: ReportPeriod) -> String? {
        guard Self.months(p) != nil else { return nil }
        let to = window(p).to.split(separator: "-").compactMap { Int($0) }
        guard to.count == 3 else { return nil }
        if deadlineDay > to[2] { return Self.day((to[0], to[1], deadlineDay)) }
        return Self.day(to[1] == 12 ? (to[0] + 1, 1, deadlineDay) : (to[0], to[1] + 1, deadlineDay))
    }
}
