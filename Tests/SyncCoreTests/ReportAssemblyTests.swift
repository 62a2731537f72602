import Foundation
import TestSupport
import Testing

@testable import SyncCore

@Suite("Report assembly: periods, late entries, totals recomputed from raw records")
struct ReportAssemblyTests {
    typealias F = ReportFixture

    static let windows: [String: (String, String)] = [
        "2026-Q1": ("2025-12-15", "2026-03-14"), "2026-Q2": ("2026-03-15", "2026-06-14"), "2026-Q3": ("2026-06-15", "2026-09-14"),
        "2026-H1": ("2025-12-15", "2026-06-14"), "2026-9M": ("2025-12-15", "2026-09-14"), "2026-Y": ("2025-12-15", "2026-12-14"),
    ]

    @Test("14/03 is in Q1, 15/03 in Q2; 15/12 of the year before opens Q1, H1 and Y")
    func periodBoundaries() throws {
        // Given one activity on each side of each cut-off
        let u = try F.unit("TTQLCK", replica: "aaaa0001")
        let days = ["2025-12-14", "2025-12-15", "2026-03-14", "2026-03-15", "2026-06-14", "2026-06-15", "2026-12-14", "2026-12-15"]
        var ids: [String: String] = [:]
        for d in days { ids[d] = try F.add(u, date: d).id }
        let hub = try F.hub([u])
        // When each period's report is assembled
        func counted(_ p: String) throws -> Set<String> {
            let r = try ReportSource(store: hub).consolidatedReport(for: try ReportPeriod.parse(p), heading: F.heading())
            let byID = Dictionary(uniqueKeysWithValues: ids.map { ($1, $0) })
            return Set(r.evidence.compactMap { byID[$0.id] })
        }
        // Then each counts exactly the days inside its window
        #expect(try counted("2026-Q1") == ["2025-12-15", "2026-03-14"])
        #expect(try counted("2026-Q2") == ["2026-03-15", "2026-06-14"])
        #expect(try counted("2026-H1") == ["2025-12-15", "2026-03-14", "2026-03-15", "2026-06-14"])
        #expect(try counted("2026-Q3") == ["2026-06-15"])
        #expect(try counted("2026-9M") == ["2025-12-15", "2026-03-14", "2026-03-15", "2026-06-14", "2026-06-15"])
        #expect(try counted("2026-Y") == ["2025-12-15", "2026-03-14", "2026-03-15", "2026-06-14", "2026-06-15", "2026-12-14"])
        // 2025 has no plan: its report is refused, naming the period
        #expect(throws: SyncError.self) { try counted("2025-Q4") }
        #expect(try counted("2027-Q1") == ["2026-12-15"])
        #expect(try counted("2026-03-14_2026-03-15") == ["2026-03-14", "2026-03-15"])
    }

    @Test("An activity recorded after the unit submitted Q1 is counted in Q2 and flagged late, still on time in H1")
    func lateEntryRollsIntoNextQuarter() throws {
        // Given TTQLCK submitted Q1 on 16/03 and then recorded an activity dated 10/03
        let u = try F.unit("TTQLCK", replica: "aaaa0002")
        let onTime = try F.add(u, date: "2026-03-01", quantity: 3, participants: 40)
        try UnitReports(store: u).submit(period: .quarter(2026, 1), now: try #require(ISO8601DateFormatter().date(from: "2026-03-16T08:00:00Z")))
        let late = try F.add(u, date: "2026-03-10", quantity: 5, participants: 60, recorded: "2026-03-20T09:00:00Z")
        let hub = try F.hub([u])
        // When Q1, Q2 and H1 are assembled
        let q1 = try ReportSource(store: hub).consolidatedReport(for: .quarter(2026, 1), heading: F.heading())
        let q2 = try ReportSource(store: hub).consolidatedReport(for: .quarter(2026, 2), heading: F.heading())
        let h1 = try ReportSource(store: hub).consolidatedReport(for: .halfYear(2026), heading: F.heading())
        // Then Q1 keeps its frozen figures, Q2 carries the late entry flagged with its period, H1 counts both on time
        #expect(q1.evidence.map(\.id) == [onTime.id])
        #expect(q1.totals.peopleReached == 40)
        #expect(q1.units.first { $0.unit == "TTQLCK" }?.frozenMatches == true)
        #expect(q2.evidence.map(\.id) == [late.id])
        #expect(q2.evidence.first?.lateFrom == "2026-Q1")
        #expect(q2.totals.lateEntries == 1)
        #expect(q2.totals.peopleReached == 60)
        #expect(Set(h1.evidence.map(\.id)) == [onTime.id, late.id])
        #expect(h1.totals.lateEntries == 0)
    }

    @Test("Late for H1 and for Q2 rolls into Q3 once; late for Q2 and Q3 rolls on into Q4")
    func lateEntriesChain() throws {
        let u = try F.unit("CPCM-QLDTDN", replica: "aaaa0003")
        let f = ISO8601DateFormatter()
        try UnitReports(store: u).submit(period: .quarter(2026, 2), now: try #require(f.date(from: "2026-06-16T08:00:00Z")))
        try UnitReports(store: u).submit(period: .halfYear(2026), now: try #require(f.date(from: "2026-06-17T08:00:00Z")))
        let mayLate = try F.add(u, date: "2026-05-10", recorded: "2026-07-01T08:00:00Z")
        try UnitReports(store: u).submit(period: .quarter(2026, 3), now: try #require(f.date(from: "2026-09-16T08:00:00Z")))
        let veryLate = try F.add(u, date: "2026-05-11", recorded: "2026-10-01T08:00:00Z")
        let hub = try F.hub([u])
        let q3 = try ReportSource(store: hub).consolidatedReport(for: .quarter(2026, 3), heading: F.heading())
        let q4 = try ReportSource(store: hub).consolidatedReport(for: .quarter(2026, 4), heading: F.heading())
        let y = try ReportSource(store: hub).consolidatedReport(for: .year(2026), heading: F.heading())
        #expect(q3.evidence.map(\.id) == [mayLate.id])
        #expect(q4.evidence.map(\.id) == [veryLate.id])
        #expect(q4.evidence.first?.lateFrom == "2026-Q2")
        #expect(Set(y.evidence.map(\.id)) == [mayLate.id, veryLate.id])
    }

    @Test("A unit that did not submit is listed as not submitted; its activities still count")
    func unitWithoutSubmission() throws {
        let a = try F.unit("TTQLCK", replica: "aaaa0004")
        let b = try F.unit("CPCM-QHXDMT", replica: "aaaa0005")
        try F.add(a, date: "2026-02-01", participants: 10)
        try F.add(b, date: "2026-02-02", participants: 7)
        try UnitReports(store: a).draft(period: .quarter(2026, 1), draft: UnitReportDraft(results: "Kết quả tốt", tthcTotal: 2, tthcOnline: 1))
        try UnitReports(store: a).submit(period: .quarter(2026, 1))
        try UnitReports(store: b).draft(period: .quarter(2026, 1), draft: UnitReportDraft(results: "Chưa gửi"))
        let r = try ReportSource(store: F.hub([a, b])).consolidatedReport(for: .quarter(2026, 1), heading: F.heading())
        #expect(r.submitted == ["TTQLCK"])
        #expect(Set(r.notSubmitted) == ["VP", "CPCM-QLDTDN", "CPCM-QHXDMT"])
        #expect(r.units.first { $0.unit == "CPCM-QHXDMT" }?.status == .draft)
        #expect(r.units.first { $0.unit == "VP" }?.status == .missing)
        #expect(r.totals.peopleReached == 17)
        // Only the submitted unit's narrative is merged
        #expect(r.units.compactMap(\.results) == ["Kết quả tốt"])
    }

    @Test("An activity edited after submission makes the frozen hash differ, and the report says so")
    func editAfterSubmission() throws {
        // Given a submitted Q1 report
        let u = try F.unit("TTQLCK", replica: "aaaa0008")
        let a = try F.add(u, date: "2026-02-01", quantity: 10)
        try UnitReports(store: u).submit(period: .quarter(2026, 1))
        let before = try ReportSource(store: F.hub([u])).consolidatedReport(for: .quarter(2026, 1), heading: F.heading())
        #expect(before.units.first { $0.unit == "TTQLCK" }?.frozenMatches == true)
        // When the activity's quantity is edited afterwards
        try u.writeRecord(try RecordID.parse(a.id), changes: [("quantity", .int(12))])
        let after = try ReportSource(store: F.hub([u])).consolidatedReport(for: .quarter(2026, 1), heading: F.heading())
        // Then the recomputed figures no longer match the frozen hash and every export says so
        #expect(after.units.first { $0.unit == "TTQLCK" }?.frozenMatches == false)
        #expect(after.totals.byForm.first { $0.code == "HT01" }?.quantity == 12)
        // (the Office's internal version: the external one does not speak of submissions)
        #expect(after.markdown(audience: .internal).contains("đã thay đổi sau khi gửi báo cáo"))
        let docx = try DocxInspector(try after.export(.docx, audience: .internal))
        #expect(docx.paragraphs().contains { $0.contains("đã thay đổi sau khi gửi báo cáo") })
        #expect(!(try DocxInspector(try after.export(.docx))).paragraphs().contains { $0.contains("đã thay đổi sau khi gửi") })
    }

    @Test("Online-service percentages come from summed counts, never from averaged rates")
    func percentagesFromCounts() throws {
        let a = try F.unit("TTQLCK", replica: "aaaa0006")
        let b = try F.unit("CPCM-QLDTDN", replica: "aaaa0007")
        try UnitReports(store: a).draft(
            period: .quarter(2026, 1), draft: UnitReportDraft(tthcTotal: 2, tthcOnline: 1, dossiersTotal: 100, dossiersOnline: 10))
        try UnitReports(store: b).draft(
            period: .quarter(2026, 1), draft: UnitReportDraft(tthcTotal: 10, tthcOnline: 9, dossiersTotal: 900, dossiersOnline: 890))
        try UnitReports(store: a).submit(period: .quarter(2026, 1))
        try UnitReports(store: b).submit(period: .quarter(2026, 1))
        let r = try ReportSource(store: F.hub([a, b])).consolidatedReport(for: .quarter(2026, 1), heading: F.heading())
        #expect(r.publicServices.tthcTotal == 12 && r.publicServices.tthcOnline == 10)
        #expect(r.publicServices.tthcOnlinePercent == 83.33)  // 10/12, not (50 + 90) / 2 = 70
        #expect(r.publicServices.dossiersOnlinePercent == 90)  // 900/1000, not (10 + 98.9) / 2
    }

    @Test("Totals over histories merged from several replicas with edits, deletes and concurrent edits match a count over the merged records")
    func mergedHistoriesMatchIndependentCount() throws {
        let seed =
            ProcessInfo.processInfo.environment["CCHC_SEED"].flatMap { UInt64($0) } ?? UInt64(Date().timeIntervalSince1970 * 1000) & 0xFFFF_FFFF
        print("ReportAssemblyTests.mergedHistoriesMatchIndependentCount seed = \(seed) (replay: CCHC_SEED=\(seed))")
        var rng = SplitMix64(seed: seed)
        let peer = OpSource.peer(authenticated: nil, unit: nil)
        // Two machines of TTQLCK and two of the department edit and delete each other's records.
        let machines = [("TTQLCK", "cccc0001"), ("TTQLCK", "cccc0002"), ("CPCM-QLDTDN", "cccc0003"), ("CPCM-QLDTDN", "cccc0004"), ("VP", "cccc0005")]
        let stores = try machines.map { m -> ReplicaStore in
            let s = try ReplicaStore.inMemory()
            try s.initialise(identity: .init(replica: try #require(ReplicaID(m.1)), unit: m.0))
            return s
        }
        let forms = Catalog.standard.forms.map(\.code)
        let items = Catalog.standard.contentItems.map(\.code)
        func randomDate() -> String { String(format: "2026-%02d-%02d", 1 + rng.below(12), 1 + rng.below(28)) }
        var edits = 0
        var deletes = 0
        for n in 0..<200 {
            let i = rng.below(stores.count)
            let s = stores[i]
            let unit = machines[i].0
            switch rng.below(10) {
            case 0..<4:
                let form = forms[rng.below(forms.count)]
                var changes: [(String, Value)] = [
                    ("unit", .text(unit)), ("date", .text(randomDate())), ("form", .text(form)),
                    ("content", .text(Set([items[rng.below(items.count)], items[rng.below(items.count)]]).sorted().joined(separator: ","))),
                    ("title", .text("Hoạt động \(n)")), ("recorded", .text("2026-01-01T00:00:00Z")), ("deleted", .int(0)),
                    ("quantity", .int(Int64(rng.below(900)))), ("participants", .int(Int64(rng.below(300)))),
                ]
                if form == "HT06" || form == "HT07" { changes.append(("url", .text("https://example.gov.vn/\(n)"))) }
                try s.localWrites(checkingPlan: false) { _ = try $0.create(kind: .activity, owner: unit, changes: changes) }
            case 4..<7:
                // Edit a record of this unit the machine holds (maybe concurrently with its twin).
                let mine = try s.activities(unit: unit)
                guard !mine.isEmpty else { continue }
                let id = try RecordID.parse(mine[rng.below(mine.count)].id)
                let field = ["quantity", "participants", "date", "form", "content"][rng.below(5)]
                let value: Value
                switch field {
                case "date": value = .text(randomDate())
                case "form": value = .text(["HT01", "HT02", "HT04", "HT05"][rng.below(4)])
                case "content": value = .text(items[rng.below(items.count)])
                default: value = .int(Int64(rng.below(500)))
                }
                try s.localWrites(checkingPlan: false) { _ = try $0.write(id, changes: [(field, value)]) }
                edits += 1
            case 7:
                let mine = try s.activities(unit: unit)
                guard !mine.isEmpty else { continue }
                try s.writeRecord(try RecordID.parse(mine[rng.below(mine.count)].id), changes: [], delete: true)
                deletes += 1
            default:
                // Twins exchange what they have (so later edits supersede, or run concurrently when they did not).
                let j = rng.below(stores.count)
                try stores[j].apply(try s.ops(after: stores[j].versionVector()), source: peer)
            }
        }
        // At least one concurrent edit whatever the seed: the twins of TTQLCK both change one quantity.
        try stores[1].apply(try stores[0].ops(after: stores[1].versionVector()), source: peer)
        if let shared = try stores[0].activities(unit: "TTQLCK").first {
            let id = try RecordID.parse(shared.id)
            try stores[0].writeRecord(id, changes: [("quantity", .int(1111))])
            try stores[1].writeRecord(id, changes: [("quantity", .int(2222))])
            edits += 2
        }
        let hub = try ReplicaStore.inMemory()
        try hub.initialise(identity: nil)
        for s in stores { try hub.apply(try s.ops(after: hub.versionVector()), source: peer) }
        // The independent side: the merged records as the canonical dump shows them (winners of
        // each field's register, from the op log), not the typed table the report reads.
        let dump = try hub.dump()
        var merged: [F.Recorded] = []
        var deletedSeen = 0
        for (id, fields) in dump.records where id.hasPrefix("HD.") {
            func text(_ f: String) -> String? { fields[f]?.value.text }
            func int(_ f: String) -> Int64? { if case .int(let v)? = fields[f]?.value { return v } else { return nil } }
            if int("deleted") == 1 {
                deletedSeen += 1
                continue
            }
            merged.append(
                F.Recorded(
                    id: id, unit: text("unit") ?? "", date: text("date") ?? "", form: text("form") ?? "",
                    content: (text("content") ?? "").split(separator: ",").map(String.init), quantity: int("quantity"),
                    participants: int("participants"), recorded: text("recorded") ?? "", title: text("title") ?? "", url: text("url")))
        }
        #expect(deletedSeen > 0 && edits > 10 && !merged.isEmpty, "the history has deletes (\(deletedSeen)) and edits (\(edits))")
        #expect(try hub.conflictCount() > 0 || edits < 20, "concurrent edits leave conflicts")
        for code in ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2026-H1", "2026-9M", "2026-Y"] {
            let (from, to) = try #require(Self.windows[code] ?? (code == "2026-Q4" ? ("2026-09-15", "2026-12-14") : nil))
            let expected = merged.filter { $0.date >= from && $0.date <= to }
            let report = try ReportSource(store: hub).consolidatedReport(for: try ReportPeriod.parse(code), heading: F.heading())
            try ReportExportChecks.compareJSON(report.jsonData(), expected: expected, period: code)
            try ReportExportChecks.compareCSV(report.csvData(), expected: expected, period: code)
        }
    }

    @Test("Totals by content, form, unit and people reached match an independent count (random histories)")
    func randomTotalsMatchIndependentCount() throws {
        let seed =
            ProcessInfo.processInfo.environment["CCHC_SEED"].flatMap { UInt64($0) } ?? UInt64(Date().timeIntervalSince1970 * 1000) & 0xFFFF_FFFF
        print("ReportAssemblyTests.randomTotalsMatchIndependentCount seed = \(seed) (replay: CCHC_SEED=\(seed))")
        var rng = SplitMix64(seed: seed)
        let units = [("TTQLCK", "bbbb0001"), ("CPCM-QLDTDN", "bbbb0002"), ("VP", "bbbb0003")]
        let stores = try units.map { try F.unit($0.0, replica: $0.1) }
        let edges = ["2025-12-14", "2025-12-15", "2026-03-14", "2026-03-15", "2026-06-14", "2026-06-15", "2026-09-14", "2026-09-15", "2026-12-14"]
        let forms = Catalog.standard.forms.map(\.code)
        let items = Catalog.standard.contentItems.map(\.code)
        var recorded: [F.Recorded] = []
        let q1Submitted = "2026-03-16T08:00:00Z"
        for n in 0..<120 {
            let si = rng.below(stores.count)
            let date = rng.below(3) == 0 ? edges[rng.below(edges.count)] : String(format: "2026-%02d-%02d", 1 + rng.below(12), 1 + rng.below(28))
            let form = forms[rng.below(forms.count)]
            var content = Set([items[rng.below(items.count)]])
            if rng.below(2) == 0 { content.insert(items[rng.below(items.count)]) }
            let lateRecorded = si == 0 && date <= "2026-03-14" && rng.below(4) == 0
            recorded.append(
                try F.add(
                    stores[si], date: date, form: form, content: content.sorted(), quantity: rng.below(5) == 0 ? nil : Int64(rng.below(1000)),
                    participants: rng.below(3) == 0 ? nil : Int64(rng.below(200)), recorded: lateRecorded ? "2026-03-20T10:00:00Z" : nil,
                    title: "Hoạt động \(n), \"thử\"", url: form == "HT06" || form == "HT07" ? "https://example.gov.vn/tin/\(n)?a=1&b=2" : nil))
            if n == 60 {
                try UnitReports(store: stores[0]).submit(period: .quarter(2026, 1), now: try #require(ISO8601DateFormatter().date(from: q1Submitted)))
            }
        }
        let hub = try F.hub(stores)
        for code in ["2026-Q1", "2026-Q2", "2026-Q3", "2026-H1", "2026-9M", "2026-Y"] {
            let (from, to) = try #require(Self.windows[code])
            // The independent rule: TTQLCK (index 0) submitted Q1 at q1Submitted; its later entries dated in Q1 go to Q2.
            func isLateQ1(_ r: F.Recorded) -> Bool {
                r.unit == "TTQLCK" && r.date >= "2025-12-15" && r.date <= "2026-03-14" && r.recorded > q1Submitted
            }
            let expected = recorded.filter { r in
                switch code {
                case "2026-Q1": return r.date >= from && r.date <= to && !isLateQ1(r)
                case "2026-Q2": return (r.date >= from && r.date <= to) || isLateQ1(r)
                default: return r.date >= from && r.date <= to
                }
            }
            let report = try ReportSource(store: hub).consolidatedReport(for: try ReportPeriod.parse(code), heading: F.heading())
            try ReportExportChecks.compareJSON(report.jsonData(), expected: expected, period: code)
            try ReportExportChecks.compareCSV(report.csvData(), expected: expected, period: code)
        }
    }
}

/// Compares exports with totals computed directly from the recorded activities.
enum ReportExportChecks {
    static func compareJSON(_ data: Data, expected: [ReportFixture.Recorded], period: String) throws {
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let totals = try #require(root["totals"] as? [String: Any])
        #expect(totals["activities"] as? Int == expected.count, "activities \(period)")
        #expect((totals["peopleReached"] as? NSNumber)?.int64Value == expected.reduce(0) { $0 + ($1.participants ?? 0) }, "people \(period)")
        for f in try #require(totals["byForm"] as? [[String: Any]]) {
            let code = try #require(f["code"] as? String)
            let mine = expected.filter { $0.form == code }
            #expect(f["activities"] as? Int == mine.count, "\(period) \(code)")
            #expect((f["quantity"] as? NSNumber)?.int64Value == mine.reduce(0) { $0 + ($1.quantity ?? 0) }, "\(period) \(code) quantity")
            #expect((f["participants"] as? NSNumber)?.int64Value == mine.reduce(0) { $0 + ($1.participants ?? 0) }, "\(period) \(code) people")
        }
        for c in try #require(totals["byContent"] as? [[String: Any]]) {
            let code = try #require(c["code"] as? String)
            #expect(c["activities"] as? Int == expected.filter { $0.content.contains(code) }.count, "\(period) \(code)")
        }
        // Every row the catalog has, not only the rows the export chose to print.
        let formCodes = try #require(totals["byForm"] as? [[String: Any]]).compactMap { $0["code"] as? String }
        let itemCodes = try #require(totals["byContent"] as? [[String: Any]]).compactMap { $0["code"] as? String }
        #expect(formCodes == Catalog.standard.forms.map(\.code) && itemCodes == Catalog.standard.contentItems.map(\.code), "\(period)")
        let units = try #require(root["units"] as? [[String: Any]])
        #expect(Set(expected.map(\.unit)).isSubset(of: Set(units.compactMap { $0["unit"] as? String })), "\(period): a unit with records is missing")
        for u in units {
            let code = try #require(u["unit"] as? String)
            let figures = try #require(u["figures"] as? [String: Any])
            let mine = expected.filter { $0.unit == code }
            #expect(figures["activities"] as? Int == mine.count, "\(period) \(code)")
            #expect((figures["peopleReached"] as? NSNumber)?.int64Value == mine.reduce(0) { $0 + ($1.participants ?? 0) }, "\(period) \(code) people")
            for f in try #require(figures["byForm"] as? [[String: Any]]) {
                let form = try #require(f["code"] as? String)
                let q = mine.filter { $0.form == form }.reduce(0) { $0 + ($1.quantity ?? 0) }
                #expect((f["quantity"] as? NSNumber)?.int64Value == q, "\(period) \(code) \(form) quantity")
            }
        }
        let evidence = try #require(root["evidence"] as? [[String: Any]])
        #expect(Set(evidence.compactMap { $0["id"] as? String }) == Set(expected.map(\.id)))
    }

    static func compareCSV(_ data: Data, expected: [ReportFixture.Recorded], period: String) throws {
        #expect(data.starts(with: [0xEF, 0xBB, 0xBF]), "UTF-8 BOM")
        let rows = ReportFixture.parseCSV(data)
        let header = try #require(rows.first)
        #expect(rows.allSatisfy { $0.count == header.count }, "rectangular")
        func col(_ name: String) throws -> Int { try #require(header.firstIndex(of: name)) }
        let (table, code, unit, acts, qty, people) = (
            try col("Bảng"), try col("Mã"), try col("Đơn vị"), try col("Số hoạt động"), try col("Số lượng"), try col("Số người")
        )
        let total = try #require(rows.first { $0[table] == "Tổng hợp" })
        #expect(Int(total[acts]) == expected.count)
        #expect(Int64(total[people]) == expected.reduce(0) { $0 + ($1.participants ?? 0) })
        for r in rows where r[table] == "Theo hình thức" {
            let mine = expected.filter { $0.form == r[code] }
            #expect(Int(r[acts]) == mine.count, "\(period) \(r[code])")
            #expect(Int64(r[qty]) == mine.reduce(0) { $0 + ($1.quantity ?? 0) })
        }
        for r in rows where r[table] == "Theo nội dung" {
            #expect(Int(r[acts]) == expected.filter { $0.content.contains(r[code]) }.count, "\(period) \(r[code])")
        }
        for r in rows where r[table] == "Theo đơn vị" {
            #expect(Int(r[acts]) == expected.filter { $0.unit == r[unit] }.count, "\(period) \(r[unit])")
        }
        let evidence = rows.filter { $0[table] == "Minh chứng" }
        #expect(Set(evidence.map { $0[code] }) == Set(expected.map(\.id)))
        // Titles with quotes and commas survive the round trip
        let titles = Set(expected.map(\.title))
        #expect(evidence.allSatisfy { titles.contains($0[try! col("Tên")]) })
    }
}
