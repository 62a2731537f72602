import Foundation

/// Every year's plan as this replica holds it (the replicated entries `KH.<year>.<code>`,
/// docs/PLAN-DATA.md), with the rules that tie records to a plan: an activity belongs to the plan
/// of its date's year, where a plan year runs from 15/12 of the year before to 14/12 (Nghị định
/// 09/2019/NĐ-CP: Quý I, 6 tháng and Năm all open on 15/12), and each report uses the plan of its
/// period.
public struct PlanBook: Sendable {
    /// The organisation's units and the shipped 2026 plan (what genesis wrote).
    public let base: Catalog
    /// The plans held, by year (a year has a plan once its heading `KH.<year>.CHUNG` is here).
    public let years: [Int: Catalog]

    public init(base: Catalog, years: [Int: Catalog]) {
        self.base = base
        self.years = years
    }

    /// The plan year a day belongs to: `2026-12-15` and later days of December belong to 2027.
    public static func planYear(of day: String) -> Int {
        let y = Int(day.prefix(4)) ?? 0
        return day.dropFirst(5) >= "12-15" ? y + 1 : y
    }

    /// The first and last day of a plan year (15/12 of the year before → 14/12).
    public static func window(year: Int) -> (from: String, to: String) {
        (String(format: "%04d-12-15", year - 1), String(format: "%04d-12-14", year))
    }

    public var firstYear: Int? { years.keys.min() }

    public func plan(year: Int) -> Catalog? { years[year] }

    /// The plan of `year`, or an error saying which plans this replica holds.
    public func requirePlan(year: Int, field: String, value: String) throws -> Catalog {
        if let c = years[year] { return c }
        let held = years.keys.sorted().map(String.init).joined(separator: ", ")
        if let first = firstYear, year < first {
            throw SyncError.invalid(
                field, value, "trước Kế hoạch đầu tiên (năm \(first)); không có Kế hoạch nào áp dụng cho năm \(year).")
        }
        throw SyncError(
            .invalidInput,
            "Chưa nhận được Kế hoạch năm \(year) cho «\(field)» = «\(value)» (bản sao này có Kế hoạch năm \(held.isEmpty ? "—" : held)). Văn phòng nhập Kế hoạch mới bằng «unit-client plan import»; sau khi đồng bộ, hãy thử lại.",
            field: field, value: value)
    }

    /// The plan a day's activity is checked against.
    public func requirePlan(forDay day: String, field: String = "date") throws -> Catalog {
        try requirePlan(year: Self.planYear(of: day), field: field, value: day)
    }

    /// The plan a report of `period` uses, limited to the entries in force on some day of it.
    public func plan(for period: ReportPeriod) throws -> Catalog {
        let w = period.window
        return try requirePlan(year: Self.planYear(of: w.to), field: "period", value: period.description).forWindow(from: w.from, to: w.to)
    }

    /// Checks what an activity names against the plan of its date: the form and each content item
    /// exist in that plan and are in force on that day.
    public func checkActivity(date: String, form: String?, content: [String]) throws {
        let plan = try requirePlan(forDay: date)
        let year = plan.plan.year
        if let form {
            guard let f = plan.form(form) else {
                throw SyncError.invalid(
                    "form", form, "hình thức không có trong Kế hoạch năm \(year) (\(plan.forms.map(\.code).joined(separator: ", "))).")
            }
            guard Catalog.inForce(validFrom: f.validFrom, retiredOn: f.retiredOn, on: date) else {
                throw SyncError.invalid("form", form, Self.notInForce(f.validFrom, f.retiredOn, date))
            }
        }
        for code in content {
            guard let i = plan.contentItem(code) else {
                throw SyncError.invalid(
                    "content", code, "nội dung không có trong Kế hoạch năm \(year) (\(plan.contentItems.map(\.code).joined(separator: ", "))).")
            }
            guard Catalog.inForce(validFrom: i.validFrom, retiredOn: i.retiredOn, on: date) else {
                throw SyncError.invalid("content", code, Self.notInForce(i.validFrom, i.retiredOn, date))
            }
        }
    }

    /// Checks the duty an activity of `unit` on `date` names: a duty of that plan, in force, that
    /// the plan gives the unit.
    public func checkDuty(_ code: String, unit: String, date: String) throws {
        let plan = try requirePlan(forDay: date)
        guard let d = plan.duty(code) else {
            throw SyncError.invalid(
                "duty", code, "nhiệm vụ không có trong Kế hoạch năm \(plan.plan.year) (\(plan.duties.map(\.code).joined(separator: ", "))).")
        }
        guard Catalog.inForce(validFrom: d.validFrom, retiredOn: d.retiredOn, on: date) else {
            throw SyncError.invalid("duty", code, Self.notInForce(d.validFrom, d.retiredOn, date))
        }
        guard d.units.contains(unit) else {
            let mine = plan.duties.filter { $0.units.contains(unit) }.map(\.code)
            throw SyncError.invalid(
                "duty", code,
                "Kế hoạch giao nhiệm vụ này cho \(d.units.joined(separator: ", ")), không phải \(unit) (nhiệm vụ của \(unit): \(mine.isEmpty ? "không có" : mine.joined(separator: ", ")))."
            )
        }
    }

    /// Checks a task's item (a content item or a duty) against the plan of `day`.
    public func checkTaskItem(_ item: String, on day: String) throws {
        let plan = try requirePlan(forDay: day, field: "due")
        if let i = plan.contentItem(item) {
            guard Catalog.inForce(validFrom: i.validFrom, retiredOn: i.retiredOn, on: day) else {
                throw SyncError.invalid("item", item, Self.notInForce(i.validFrom, i.retiredOn, day))
            }
            return
        }
        if let d = plan.duty(item) {
            guard Catalog.inForce(validFrom: d.validFrom, retiredOn: d.retiredOn, on: day) else {
                throw SyncError.invalid("item", item, Self.notInForce(d.validFrom, d.retiredOn, day))
            }
            return
        }
        throw SyncError.invalid(
            "item", item,
            "không có trong Kế hoạch năm \(plan.plan.year) (\((plan.contentItems.map(\.code) + plan.duties.map(\.code)).joined(separator: ", "))).")
    }

    static func notInForce(_ from: String?, _ retired: String?, _ day: String) -> String {
        if let retired, day >= retired {
            return
                "đã thôi áp dụng từ ngày \(CalendarDay.vietnamese(retired)); hoạt động ngày \(CalendarDay.vietnamese(day)) không được ghi vào mục này."
        }
        return "chỉ áp dụng từ ngày \(CalendarDay.vietnamese(from ?? day)); hoạt động ngày \(CalendarDay.vietnamese(day)) chưa được ghi vào mục này."
    }
}
