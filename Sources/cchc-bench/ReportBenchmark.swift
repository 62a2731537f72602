import Foundation

/// A synthetic province for the report benchmark: many units, a year of activities, some
/// submitted period reports and late entries. Deterministic for a given seed.
public enum ReportBenchmark {
    /// The standard catalog with `units` units: the Office plus `units − 1` departments.
    public static func syntheticCatalog(units: Int) -> Catalog {
        var c = Catalog.standard
        var list = [Catalog.Unit(code: "VP", name: "Văn phòng", kind: "office", validFrom: "2025-01-01", validTo: nil, assumed: nil)]
        for i in 1..<max(units, 2) {
            list.append(
                Catalog.Unit(
                    code: String(format: "DV%02d", i), name: "Đơn vị thử nghiệm số \(i)", kind: "department", validFrom: "2025-01-01", validTo: nil,
                    assumed: true))
        }
        c.units = list
        let others = list.dropFirst().map(\.code)
        c.duties = c.duties.map { d in
            var d = d
            d.units = d.units.contains("VP") ? ["VP"] : others
            return d
        }
        return c
    }

    /// `perUnit` activities for every unit, dated over the year's window; every unit submits Q1 on
    /// 16/03 and 1 % of Q1 activities are recorded after that (late entries); units submit the
    /// year report with online-service counts.
    public static func fill(_ store: ReplicaStore, catalog: Catalog, perUnit: Int, year: Int, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let start = Timestamp.days(year - 1, 12, 15)
        let end = Timestamp.days(year, 12, 14)
        let span = Int(end - start) + 1
        func day(_ n: Int64) -> String {
            // Civil date from days since 1970 (inverse of Timestamp.days).
            let z = n + 719_468
            let era = (z >= 0 ? z : z - 146_096) / 146_097
            let doe = z - era * 146_097
            let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
            let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
            let mp = (5 * doy + 2) / 153
            let d = doy - (153 * mp + 2) / 5 + 1
            let m = mp < 10 ? mp + 3 : mp - 9
            let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
            return String(format: "%04d-%02d-%02d", y, m, d)
        }
        let forms = catalog.forms
        let items = catalog.contentItems.map(\.code)
        let q1End = "\(year)-03-14"
        var reports: [UnitReportRow] = []
        for (ui, unit) in catalog.units.enumerated() {
            var rows: [ActivityRow] = []
            rows.reserveCapacity(perUnit)
            for k in 0..<perUnit {
                let date = day(start + Int64(rng.below(span)))
                let form = forms[rng.below(forms.count)]
                var content = Set([items[rng.below(items.count)]])
                if rng.below(3) == 0 { content.insert(items[rng.below(items.count)]) }
                let late = date <= q1End && rng.below(100) == 0
                rows.append(
                    ActivityRow(
                        id: "HD.\(unit.code).bench\(String(format: "%04d", ui)).\(k + 1)", unit: unit.code, date: date, form: form.code,
                        content: content.sorted(), title: "Hoạt động tuyên truyền CCHC số \(k + 1) của \(unit.name)",
                        description: nil, quantity: Int64(1 + rng.below(500)),
                        participants: form.participantsUnit == nil ? nil : Int64(rng.below(300)),
                        url: form.requiresURL ? "https://bqlkktck.langson.gov.vn/tin/\(unit.code.lowercased())/\(k + 1)" : nil, note: nil,
                        recorded: late ? "\(year)-04-01T09:00:00Z" : "\(date)T10:00:00Z"))
            }
            try store.insertBenchmarkActivities(rows)
            reports.append(
                UnitReportRow(
                    id: "BC.\(unit.code).\(year)-Q1", unit: unit.code, period: "\(year)-Q1", results: "Hoàn thành kế hoạch quý I.", issues: nil,
                    proposals: nil, status: .submitted, figures: nil, figuresHash: nil, submittedAt: "\(year)-03-16T08:00:00Z", tthcTotal: 40,
                    tthcOnline: 30, dossiersTotal: 1000, dossiersOnline: 700))
            reports.append(
                UnitReportRow(
                    id: "BC.\(unit.code).\(year)-Y", unit: unit.code, period: "\(year)-Y", results: "Hoàn thành kế hoạch năm.",
                    issues: "Một số tin, bài chưa kịp thời.", proposals: "Đề nghị bồi dưỡng kỹ năng viết tin.", status: .submitted, figures: nil,
                    figuresHash: nil, submittedAt: "\(year)-12-16T08:00:00Z", tthcTotal: Int64(40 + ui % 7), tthcOnline: Int64(35 + ui % 5),
                    dossiersTotal: Int64(4000 + 13 * ui), dossiersOnline: Int64(3000 + 11 * ui)))
        }
        try store.insertBenchmarkReports(reports)
    }
}
