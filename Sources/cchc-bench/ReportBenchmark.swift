import Foundation
import SyncCore

/// A synthetic province for the report benchmark: many units, a year of activities, some
/// submitted period reports and late entries. Deterministic for a given seed.
enum ReportBenchmark {
    /// The standard catalog with `units` units: the Office plus `units − 1` departments.
    static func syntheticCatalog(units: Int) throws -> Catalog {
        var c = Catalog.standard
        // Units as the catalog file spells them (the library keeps its memberwise initialisers).
        var list: [[String: Any]] = [["code": "VP", "name": "Văn phòng", "kind": "office", "validFrom": "2025-01-01"]]
        for i in 1..<max(units, 2) {
            list.append([
                "code": String(format: "DV%02d", i), "name": "Đơn vị thử nghiệm số \(i)", "kind": "department", "validFrom": "2025-01-01",
                "assumed": true,
            ])
        }
        c.units = try JSONDecoder().decode([Catalog.Unit].self, from: JSONSerialization.data(withJSONObject: list))
        let others = c.units.dropFirst().map(\.code)
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
    ///
    /// Everything reaches the store as it would on a hub: each unit has one replica (`bench<NNNN>`)
    /// whose ops (its registration, then its activities and its two reports) are applied as a
    /// peer's, in pages of `pageSize` ops. Only the export is measured, so this setup may take a
    /// few seconds.
    static func fill(_ store: ReplicaStore, catalog: Catalog, perUnit: Int, year: Int, seed: UInt64, pageSize: Int = 5_000) throws {
        var rng = SplitMix64(seed: seed)
        var signer = OpSigner(seed: seed)
        let start = CalendarDay.daysSince1970(year - 1, 12, 15)
        let end = CalendarDay.daysSince1970(year, 12, 14)
        let span = Int(end - start) + 1
        func day(_ n: Int64) -> String {
            let (y, m, d) = CalendarDay.civil(daysSince1970: n)
            return String(format: "%04d-%02d-%02d", y, m, d)
        }
        let forms = catalog.forms
        let items = catalog.contentItems.map(\.code)
        let q1End = "\(year)-03-14"
        // Each op 1 ms after the previous one, from the start of the window.
        var millis = UInt64(start) * 86_400_000
        for (ui, unit) in catalog.units.enumerated() {
            guard let replica = ReplicaID(String(format: "bench%04d", ui)) else { continue }
            var ops: [Op] = []
            ops.reserveCapacity(1 + perUnit * 10 + 30)
            func op(_ record: String, _ field: String, _ value: Value?) {
                guard let value else { return }
                millis += 1
                ops.append(
                    Op(
                        dot: Dot(replica, UInt64(ops.count + 1)), hlc: HLC(millis: millis, logical: 0), record: record, field: field, value: value,
                        supersedes: []))
            }
            func text(_ s: String?) -> Value? { s.map(Value.text) }
            op(RecordID.replica(replica).rawValue, "unit", .text(unit.code))
            op(RecordID.replica(replica).rawValue, "key", signer.publicKey(for: replica))
            for k in 0..<perUnit {
                let date = day(start + Int64(rng.below(span)))
                let form = forms[rng.below(forms.count)]
                var content = Set([items[rng.below(items.count)]])
                if rng.below(3) == 0 { content.insert(items[rng.below(items.count)]) }
                let late = date <= q1End && rng.below(100) == 0
                let quantity = Int64(1 + rng.below(500))
                let participants = form.participantsUnit == nil ? nil : Int64(rng.below(300))
                let id = "HD.\(unit.code).\(replica).\(k + 1)"
                op(id, "unit", .text(unit.code))
                op(id, "date", .text(date))
                op(id, "form", .text(form.code))
                op(id, "content", .text(content.sorted().joined(separator: ",")))
                op(id, "title", .text("Hoạt động tuyên truyền CCHC số \(k + 1) của \(unit.name)"))
                op(id, "quantity", .int(quantity))
                op(id, "participants", participants.map(Value.int))
                op(id, "url", form.requiresURL ? .text("https://bqlkktck.langson.gov.vn/tin/\(unit.code.lowercased())/\(k + 1)") : nil)
                op(id, "recorded", .text(late ? "\(year)-04-01T09:00:00Z" : "\(date)T10:00:00Z"))
                op(id, "deleted", .int(0))
            }
            func report(
                _ period: String, results: String, issues: String?, proposals: String?, submittedAt: String, tthc: (Int64, Int64),
                dossiers: (Int64, Int64)
            ) {
                let id = "BC.\(unit.code).\(period)"
                op(id, "unit", .text(unit.code))
                op(id, "period", .text(period))
                op(id, "results", .text(results))
                op(id, "issues", text(issues))
                op(id, "proposals", text(proposals))
                op(id, "status", .text(UnitReportStatus.submitted.rawValue))
                op(id, "submitted_at", .text(submittedAt))
                op(id, "tthc_total", .int(tthc.0))
                op(id, "tthc_online", .int(tthc.1))
                op(id, "dossiers_total", .int(dossiers.0))
                op(id, "dossiers_online", .int(dossiers.1))
                op(id, "deleted", .int(0))
            }
            report(
                "\(year)-Q1", results: "Hoàn thành kế hoạch quý I.", issues: nil, proposals: nil, submittedAt: "\(year)-03-16T08:00:00Z",
                tthc: (40, 30), dossiers: (1000, 700))
            report(
                "\(year)-Y", results: "Hoàn thành kế hoạch năm.", issues: "Một số tin, bài chưa kịp thời.",
                proposals: "Đề nghị bồi dưỡng kỹ năng viết tin.", submittedAt: "\(year)-12-16T08:00:00Z",
                tthc: (Int64(40 + ui % 7), Int64(35 + ui % 5)), dossiers: (Int64(4000 + 13 * ui), Int64(3000 + 11 * ui)))
            var i = 0
            while i < ops.count {
                let page = Array(ops[i..<min(i + pageSize, ops.count)])
                let r = try store.apply(try signer.sign(page), source: .peer(authenticated: nil, unit: nil))
                guard r.applied == page.count else {
                    throw SyncError(.internal, "Đo hiệu năng: \(page.count - r.applied) thao tác không được áp dụng.")
                }
                i += pageSize
            }
        }
    }
}
