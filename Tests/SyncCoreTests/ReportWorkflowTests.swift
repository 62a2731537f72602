import Foundation
import Testing

@testable import SyncCore

@Suite("Unit period reports: draft, submit freezes, bad input changes nothing")
struct ReportWorkflowTests {
    typealias F = ReportFixture

    @Test("Draft stores figures computed from the unit's activities and the narrative")
    func draftComputesFigures() throws {
        let u = try F.unit("TTQLCK", replica: "cccc0001")
        try F.add(u, date: "2026-01-10", form: "HT04", content: ["ND05"], quantity: 500)
        try F.add(u, date: "2026-02-10", form: "HT02", content: ["ND01", "ND05"], quantity: 1, participants: 80)
        try F.add(u, date: "2026-04-01", form: "HT04", quantity: 99)  // Q2: not counted
        let row = try UnitReports(store: u).draft(
            period: .quarter(2026, 1), draft: UnitReportDraft(results: "Phát 500 tờ rơi", tthcTotal: 20, tthcOnline: 18))
        #expect(row.id == "BC.TTQLCK.2026-Q1")
        #expect(row.status == .draft)
        #expect(row.figuresHash == nil)
        let figures = try JSONDecoder().decode(UnitFigures.self, from: Data(try #require(row.figures).utf8))
        #expect(figures.activities == 2)
        #expect(figures.peopleReached == 80)
        #expect(figures.byForm.first { $0.code == "HT04" }?.quantity == 500)
        #expect(figures.byContent.first { $0.code == "ND05" }?.activities == 2)
        #expect(row.results == "Phát 500 tờ rơi" && row.tthcOnline == 18)
        // A second draft updates only what is given
        let again = try UnitReports(store: u).draft(period: .quarter(2026, 1), draft: UnitReportDraft(issues: "Thiếu kinh phí"))
        #expect(again.results == "Phát 500 tờ rơi" && again.issues == "Thiếu kinh phí" && again.tthcTotal == 20)
    }

    @Test("Submit freezes the figures with the SHA-256 of their canonical JSON; later edits are refused")
    func submitFreezes() throws {
        let u = try F.unit("CPCM-QLDTDN", replica: "cccc0002")
        try F.add(u, date: "2026-03-01", participants: 12)
        try UnitReports(store: u).draft(period: .quarter(2026, 1), draft: UnitReportDraft(results: "Tốt"))
        let row = try UnitReports(store: u).submit(period: .quarter(2026, 1), now: Date(timeIntervalSince1970: 1_773_648_000))
        #expect(row.status == .submitted)
        #expect(row.submittedAt == "2026-03-16T08:00:00Z")
        let figures = try #require(row.figures)
        #expect(row.figuresHash == (try independentSHA256(figures)))
        #expect(try JSONDecoder().decode(UnitFigures.self, from: Data(figures.utf8)).peopleReached == 12)
        let ops = try u.opCount()
        for attempt in [
            { try UnitReports(store: u).draft(period: .quarter(2026, 1), draft: UnitReportDraft(results: "Sửa")) },
            { try UnitReports(store: u).submit(period: .quarter(2026, 1)) },
        ] as [() throws -> UnitReportRow] {
            do {
                _ = try attempt()
                Issue.record("a submitted report must refuse changes")
            } catch let e as SyncError {
                #expect(e.code == .conflict)
                #expect(e.message.contains("đã được gửi"))
            }
        }
        #expect(try u.opCount() == ops)
        #expect(try UnitReports(store: u).report(unit: "CPCM-QLDTDN", period: .quarter(2026, 1))?.results == "Tốt")
    }

    @Test("A unit with 10 000 activities in the period submits: the frozen figures stay small and bounded")
    func submitManyActivities() throws {
        // Given a unit with 10 000 activities in Q1 (up to 14/03; one of them with participants)
        let u = try F.unit("TTQLCK", replica: "cccc0005")
        let count = 10_000
        for k in 0..<count {
            try F.add(
                u, date: String(format: "2026-%02d-%02d", 1 + k % 3, 1 + k % 14), form: k % 2 == 0 ? "HT04" : "HT02",
                content: k % 3 == 0 ? ["ND01", "ND05"] : ["ND05"], quantity: 2, participants: k == 0 ? 40 : nil)
        }
        // When it submits Q1
        let row = try UnitReports(store: u).submit(period: .quarter(2026, 1), now: Date(timeIntervalSince1970: 1_773_648_000))
        // Then the frozen figures keep the totals in a few kilobytes, far below the field's limit
        let json = try #require(row.figures)
        #expect(json.count < 10_000, "figures are \(json.count) characters")
        #expect(row.figuresHash == (try independentSHA256(json)))
        let figures = try JSONDecoder().decode(UnitFigures.self, from: Data(json.utf8))
        #expect(figures.activities == count && figures.peopleReached == 40 && figures.lateEntries == 0)
        #expect(figures.byContent.first { $0.code == "ND05" }?.activities == count)
        #expect(figures.byForm.first { $0.code == "HT04" }?.quantity == Int64(count))
        #expect(figures.evidenceDigest.count == 64)
        // and the hub sees the frozen figures unchanged
        let hub = try F.hub([u])
        let report = try ReportSource(store: hub).consolidatedReport(for: .quarter(2026, 1), heading: F.heading())
        #expect(report.units.first { $0.unit == "TTQLCK" }?.frozenMatches == true)
    }

    @Test("The evidence digest changes when a counted value, the set of activities or a late flag changes")
    func evidenceDigest() throws {
        let a = ActivityRow(
            id: "HD.VP.aaaa0001.1", unit: "VP", date: "2026-01-05", form: "HT01", content: ["ND02", "ND01"], title: "Hội nghị", description: nil,
            quantity: 1, participants: 30, url: nil, note: nil, recorded: "2026-01-05T10:00:00Z")
        var b = a
        b.id = "HD.VP.aaaa0001.2"
        let base = EvidenceDigest.of([(a, nil), (b, nil)])
        // The documented line format: id, date, form, sorted content codes, quantity, participants, late period
        #expect(EvidenceDigest.of([(a, nil)]) == (try independentSHA256("HD.VP.aaaa0001.1\t2026-01-05\tHT01\tND01,ND02\t1\t30\t\n")))
        #expect(EvidenceDigest.of([(a, "2025-Q4")]) == (try independentSHA256("HD.VP.aaaa0001.1\t2026-01-05\tHT01\tND01,ND02\t1\t30\t2025-Q4\n")))
        // Order of reading does not matter: the evidence is sorted by id
        #expect(EvidenceDigest.of([(b, nil), (a, nil)]) == base)
        var edited = b
        edited.participants = 31
        var moved = b
        moved.date = "2026-01-06"
        var recoded = b
        recoded.content = ["ND01"]
        for other in [
            EvidenceDigest.of([(a, nil), (edited, nil)]), EvidenceDigest.of([(a, nil), (moved, nil)]), EvidenceDigest.of([(a, nil), (recoded, nil)]),
            EvidenceDigest.of([(a, nil)]), EvidenceDigest.of([(a, nil), (b, "2025-Q4")]),
        ] {
            #expect(other != base)
        }
        // The title is not a counted value
        var retitled = b
        retitled.title = "Hội nghị khác"
        #expect(EvidenceDigest.of([(a, nil), (retitled, nil)]) == base)
    }

    @Test("Bad counts are refused naming the field and value, and nothing is written")
    func badCounts() throws {
        let u = try F.unit("TTQLCK", replica: "cccc0003")
        try UnitReports(store: u).draft(period: .quarter(2026, 1), draft: UnitReportDraft(tthcTotal: 10, dossiersTotal: 5))
        let ops = try u.opCount()
        let cases: [(UnitReportDraft, String, String)] = [
            (UnitReportDraft(tthcOnline: 11), "tthc_online", "11"),
            (UnitReportDraft(dossiersOnline: 6), "dossiers_online", "6"),
            (UnitReportDraft(tthcTotal: 3, tthcOnline: 4), "tthc_online", "4"),
            (UnitReportDraft(dossiersTotal: -1), "dossiers_total", "-1"),
        ]
        for (draft, field, value) in cases {
            do {
                try UnitReports(store: u).draft(period: .quarter(2026, 1), draft: draft)
                Issue.record("expected \(field) = \(value) to be refused")
            } catch let e as SyncError {
                #expect(e.code == .invalidInput)
                #expect(e.field == field && e.value == value)
                #expect(e.message.contains(field) && e.message.contains(value))
            }
        }
        #expect(try u.opCount() == ops)
    }

    @Test("Unknown periods and ad-hoc windows are refused for unit reports")
    func badPeriods() throws {
        for raw in ["2026-Q5", "2026-Q0", "2026-H2", "26-Q1", "2026-02-30_2026-03-01", ""] {
            #expect(throws: SyncError.self) { try ReportPeriod.parse(raw) }
        }
        let u = try F.unit("TTQLCK", replica: "cccc0004")
        do {
            try UnitReports(store: u).draft(period: .adHoc(from: "2026-03-01", to: "2026-03-31"), draft: UnitReportDraft())
            Issue.record("ad-hoc unit report must be refused")
        } catch let e as SyncError {
            #expect(e.field == "period")
        }
    }

    @Test("Nghị định 30 date line: leading zero for days below 10 and months 1–2")
    func placeAndDate() {
        func line(_ d: String?) -> String { ReportHeading(catalog: .standard, date: d).placeAndDate(year: 2026) }
        #expect(line("2026-03-16") == "Lạng Sơn, ngày 16 tháng 3 năm 2026")
        #expect(line("2026-01-05") == "Lạng Sơn, ngày 05 tháng 01 năm 2026")
        #expect(line("2026-02-28") == "Lạng Sơn, ngày 28 tháng 02 năm 2026")
        #expect(line("2026-12-09") == "Lạng Sơn, ngày 09 tháng 12 năm 2026")
        #expect(line(nil).hasPrefix("Lạng Sơn, ngày "))
        #expect(ReportHeading(catalog: .standard, number: "05").numberLine == "Số: 05/BC-BQLKKTCK")
        #expect(VN.day("2026-03-05") == "05/03/2026")
        #expect(VN.day("bad") == "bad")
    }

    @Test("ISO 8601 timestamps are read to the millisecond, with offsets")
    func timestamps() {
        #expect(Timestamp.epochMillis("1970-01-01T00:00:00Z") == 0)
        #expect(Timestamp.epochMillis("2026-03-16T08:00:00Z") == 1_773_648_000_000)
        #expect(Timestamp.epochMillis("2026-03-16T15:00:00+07:00") == 1_773_648_000_000)
        #expect(Timestamp.epochMillis("2026-03-16T08:00:00.250Z") == 1_773_648_000_250)
        #expect(Timestamp.epochMillis("2026-03-16") == 1_773_619_200_000)
        #expect(Timestamp.epochMillis("hôm qua") == nil)
    }
}
