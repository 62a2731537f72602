import Foundation

/// A reporting period with its data cut-off window (Nghị định 09/2019/NĐ-CP): periods close on the
/// 14th and the next opens on the 15th; Quý I, 6 tháng and Năm all open on 15/12 of the year before.
public enum ReportPeriod: Hashable, Sendable, CustomStringConvertible {
    case quarter(Int, Int)
    case halfYear(Int)
    /// 9 tháng: 15/12 of the year before → 14/09, which many provinces ask for.
    case nineMonths(Int)
    case year(Int)
    /// Đột xuất: any window, inclusive.
    case adHoc(from: String, to: String)

    /// The code used on the command line and in record ids: `2026-Q1`, `2026-H1`, `2026-Y`,
    /// `2026-03-01_2026-03-31`.
    public var description: String {
        switch self {
        case .quarter(let y, let q): return "\(y)-Q\(q)"
        case .halfYear(let y): return "\(y)-H1"
        case .nineMonths(let y): return "\(y)-9M"
        case .year(let y): return "\(y)-Y"
        case .adHoc(let f, let t): return "\(f)_\(t)"
        }
    }

    /// The Vietnamese name used in report titles ("quý I năm 2026").
    public var vietnameseName: String {
        let roman = ["I", "II", "III", "IV"]
        switch self {
        case .quarter(let y, let q): return "quý \(roman[q - 1]) năm \(y)"
        case .halfYear(let y): return "6 tháng đầu năm \(y)"
        case .nineMonths(let y): return "9 tháng đầu năm \(y)"
        case .year(let y): return "năm \(y)"
        case .adHoc(let f, let t): return "từ ngày \(CalendarDay.vietnamese(f)) đến ngày \(CalendarDay.vietnamese(t))"
        }
    }

    /// First and last day of the window, inclusive, as `YYYY-MM-DD`.
    public var window: (from: String, to: String) {
        func d(_ y: Int, _ m: Int, _ day: Int) -> String { String(format: "%04d-%02d-%02d", y, m, day) }
        switch self {
        case .quarter(let y, 1): return (d(y - 1, 12, 15), d(y, 3, 14))
        case .quarter(let y, let q): return (d(y, 3 * (q - 1), 15), d(y, 3 * q, 14))
        case .halfYear(let y): return (d(y - 1, 12, 15), d(y, 6, 14))
        case .nineMonths(let y): return (d(y - 1, 12, 15), d(y, 9, 14))
        case .year(let y): return (d(y - 1, 12, 15), d(y, 12, 14))
        case .adHoc(let f, let t): return (f, t)
        }
    }

    public func contains(day: String) -> Bool { day >= window.from && day <= window.to }

    /// The period a late entry rolls into: the next quarter for quarters, else none.
    public var next: ReportPeriod? {
        switch self {
        case .quarter(let y, 4): return .quarter(y + 1, 1)
        case .quarter(let y, let q): return .quarter(y, q + 1)
        case .halfYear(let y): return .quarter(y, 3)
        case .nineMonths(let y): return .quarter(y, 4)
        case .year(let y): return .quarter(y + 1, 1)
        case .adHoc: return nil
        }
    }

    /// Parses a period code; the error names the field and lists the accepted forms.
    public static func parse(_ raw: String, field: String = "period") throws -> ReportPeriod {
        let s = raw.trimmingCharacters(in: .whitespaces).uppercased()
        let bad = SyncError.invalid(
            field, raw,
            "kỳ báo cáo không tồn tại; dùng NĂM-Q1..Q4 (quý), NĂM-H1 (6 tháng), NĂM-9M (9 tháng), NĂM-Y (năm) hoặc YYYY-MM-DD_YYYY-MM-DD (đột xuất), ví dụ 2026-Q1."
        )
        if s.contains("_") {
            let parts = s.split(separator: "_").map(String.init)
            guard parts.count == 2, CalendarDay.isValid(parts[0]), CalendarDay.isValid(parts[1]), parts[0] <= parts[1] else { throw bad }
            return .adHoc(from: parts[0], to: parts[1])
        }
        let parts = s.split(separator: "-").map(String.init)
        guard parts.count == 2, parts[0].count == 4, let y = Int(parts[0]), (2000...2100).contains(y) else { throw bad }
        switch parts[1] {
        case "Q1", "Q2", "Q3", "Q4": return .quarter(y, Int(String(parts[1].dropFirst())) ?? 1)
        case "H1", "6T": return .halfYear(y)
        case "9M", "9T": return .nineMonths(y)
        case "Y", "NAM": return .year(y)
        default: throw bad
        }
    }
}

/// Calendar days as `YYYY-MM-DD` text, checked against the Gregorian calendar.
public enum CalendarDay {
    /// Days since 1970-01-01 (proleptic Gregorian).
    public static func daysSince1970(_ y0: Int, _ m: Int, _ d: Int) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return Int64(era * 146_097 + doe - 719_468)
    }

    /// The civil date of a day counted from 1970-01-01 (the inverse of `daysSince1970`;
    /// H. Hinnant's algorithm, proleptic Gregorian).
    public static func civil(daysSince1970 n: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = n + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// The number of days of `month` (1–12) in `year`.
    public static func daysIn(year: Int, month: Int) -> Int {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    }

    public static func isValid(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        // Digits only: `Int("+3")` would accept a sign.
        guard s.utf8.count == 10, s.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }), parts.count == 3, parts[0].count == 4,
            parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
            (1900...2200).contains(y), (1...12).contains(m), d >= 1
        else { return false }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return d <= days[m - 1]
    }

    /// Checks a date, naming the field in the error.
    public static func parse(_ s: String, field: String = "date") throws -> String {
        let t = s.trimmingCharacters(in: .whitespaces)
        guard isValid(t) else {
            throw SyncError.invalid(field, s, "ngày không tồn tại hoặc sai định dạng; dùng YYYY-MM-DD, ví dụ 2026-03-02.")
        }
        return t
    }

    /// `2026-03-05` → `05/03/2026`.
    public static func vietnamese(_ s: String) -> String {
        let p = s.split(separator: "-")
        guard p.count == 3 else { return s }
        return "\(p[2])/\(p[1])/\(p[0])"
    }

    /// Today in the local time zone.
    public static func today(_ now: Date = Date()) -> String {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone.current, from: now)
        return String(format: "%04d-%02d-%02d", c.year ?? 1970, c.month ?? 1, c.day ?? 1)
    }
}
