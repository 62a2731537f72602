import Foundation
import TestSupport
import Testing

@testable import SyncCore

/// Issue 12: the report a clerk signs as it is (docs/REPORTS.md).
@Suite("The Ban's report: duties from evidence, the Office's draft, two versions, the finished form")
struct BanReportTests {
    typealias F = ReportFixture

    /// VP posts the Government bulletin and a news item; TTQLCK hands out leaflets reaching people;
    /// the department holds a dialogue; every unit but one submits.
    static func quarter() throws -> (hub: ReplicaStore, vp: ReplicaStore, units: [ReplicaStore]) {
        let vp = try F.unit("VP", replica: "bbbb0001")
        let tt = try F.unit("TTQLCK", replica: "bbbb0002")
        let dn = try F.unit("CPCM-QLDTDN", replica: "bbbb0003")
        try F.add(vp, date: "2026-01-12", form: "HT08", content: ["ND05", "ND10"], quantity: 1, title: "Đăng Bản tin điện tử CCHC số 1/2026")
        try F.add(
            vp, date: "2026-02-24", form: "HT06", content: ["ND01", "ND02"], quantity: 1, title: "Tin: ban hành Kế hoạch",
            url: "https://bqlkktck.langson.gov.vn/tin/1")
        try F.add(tt, date: "2026-02-10", form: "HT04", content: ["ND04", "ND05"], quantity: 500, participants: 350, title: "Phát tờ rơi")
        try F.add(dn, date: "2026-03-05", form: "HT02", content: ["ND01", "ND06"], quantity: 1, participants: 65, title: "Đối thoại doanh nghiệp")
        for (s, results) in [(vp, "Văn phòng: Tin bài còn ít."), (tt, "TTQLCK đã phát tờ rơi.")] {
            try UnitReports(store: s).draft(
                period: .quarter(2026, 1),
                draft: UnitReportDraft(
                    results: results, issues: "Mạng chập chờn", proposals: "Đề nghị thiết bị", tthcTotal: 36, tthcOnline: 34, dossiersTotal: 405,
                    dossiersOnline: 377))
            try UnitReports(store: s).submit(period: .quarter(2026, 1))
        }
        return (try F.hub([vp, tt, dn]), vp, [vp, tt, dn])
    }

    static func report(_ hub: ReplicaStore, number: String? = nil) throws -> ConsolidatedReport {
        try ReportSource(store: hub).consolidatedReport(
            for: .quarter(2026, 1), heading: ReportHeading(catalog: .standard, number: number, date: "2026-03-16"))
    }

    static func paragraphs(_ r: ConsolidatedReport, _ audience: ReportAudience, _ part: ReportPart = .full) throws -> [String] {
        try DocxInspector(try r.export(.docx, audience: audience, part: part)).paragraphs()
    }

    @Test("An Office duty with activities in the period is never reported undone; the periodic report is TN04's evidence")
    func dutiesFromEvidence() throws {
        let (hub, _, _) = try Self.quarter()
        let r = try Self.report(hub)
        let byCode = Dictionary(uniqueKeysWithValues: r.duties.map { ($0.code, $0) })
        // The bulletin (HT08) and the news item (HT06) of VP serve TN02 by the suggestion.
        #expect(byCode["TN02"]?.activities == 2)
        #expect(byCode["TN02"]?.byForm.map(\.code) == ["HT06", "HT08"])
        #expect(byCode["TN03"]?.activities == 0)
        #expect(byCode["TN04"]?.reportsSubmitted == 2 && byCode["TN04"]?.reportsExpected == r.units.count)
        // TTQLCK's leaflets on online services serve TN06, the department's dialogue on ND01/ND06 TN05.
        #expect(byCode["TN06"]?.activities == 1 && byCode["TN06"]?.peopleReached == 350)
        #expect(byCode["TN05"]?.activities == 1)
        let text = try Self.paragraphs(r, .external).joined(separator: "\n")
        let tn02 = try #require(Catalog.standard.duty("TN02"))
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("- \(tn02.title):") })
        #expect(line.contains("đã thực hiện 02 hoạt động") && !line.contains("chưa"), "\(line)")
        #expect(text.contains("02/04 phòng, đơn vị đã gửi báo cáo quý I năm 2026"))
        let tn03 = try #require(Catalog.standard.duty("TN03"))
        #expect(text.contains("- \(tn03.title): chưa có hoạt động trong kỳ."))
        // No hand-set status of a standing duty anywhere in the document.
        #expect(!text.contains("chưa thực hiện"), "a standing duty shown by its status")
    }

    @Test("The duty an activity names wins over the suggestion; a duty the plan does not give the unit is refused, naming «duty»")
    func namedDuty() throws {
        let vp = try F.unit("VP", replica: "bbbb0011")
        let me = try vp.requireIdentity()
        let base: [(String, Value)] = [
            ("unit", .text("VP")), ("date", .text("2026-02-02")), ("form", .text("HT08")), ("content", .text("ND05")), ("title", .text("Bản tin")),
            ("recorded", .text("2026-02-02T10:00:00Z")), ("deleted", .int(0)),
        ]
        try vp.createRecord(kind: .activity, owner: me.unit, changes: base + [("duty", .text("TN01"))])
        let before = try vp.dump()
        #expect(throws: SyncError.self) { try vp.createRecord(kind: .activity, owner: me.unit, changes: base + [("duty", .text("TN06"))]) }
        do {
            try vp.createRecord(kind: .activity, owner: me.unit, changes: base + [("duty", .text("TN06"))])
        } catch let e as SyncError {
            #expect(e.field == "duty" && e.message.contains("TN06") && e.message.contains("CPCM-QLDTDN"), "\(e.message)")
        }
        #expect(try vp.dump() == before, "a refused write changed the replica")
        let r = try Self.report(try F.hub([vp]))
        #expect(r.duties.first { $0.code == "TN01" }?.activities == 1)
        #expect(r.duties.first { $0.code == "TN02" }?.activities == 0)
    }

    @Test("The external version has no internal codes, submission status or late-entry columns; the internal one keeps them")
    func twoVersions() throws {
        let (hub, _, _) = try Self.quarter()
        let r = try Self.report(hub)
        let external = try Self.paragraphs(r, .external).joined(separator: "\n")
        let internalText = try Self.paragraphs(r, .internal).joined(separator: "\n")
        for code in [
            "CPCM-QLDTDN", "TTQLCK", "TN02", "ND05", "HT08", "Nhập muộn", "Báo cáo kỳ", "Tình hình gửi báo cáo", "Văn phòng: Tin bài còn ít.",
        ] {
            #expect(!external.contains(code), "external version shows «\(code)»")
            #expect(internalText.contains(code), "internal version lacks «\(code)»")
        }
        // Units by their names in the external evidence annex.
        #expect(external.contains("Trung tâm Quản lý cửa khẩu") && external.contains("Đăng Bản tin điện tử CCHC của Chính phủ"))
        let md = r.markdown(audience: .external)
        #expect(!md.contains("CPCM-QLDTDN") && !md.contains("Báo cáo kỳ"))
        #expect(r.markdown(audience: .internal).contains("CPCM-QLDTDN"))
    }

    @Test("Clerk's numbers: a leading zero below ten, each form's measure with its people, a note on several content items")
    func numbers() throws {
        let (hub, _, _) = try Self.quarter()
        let text = try Self.paragraphs(try Self.report(hub), .external).joined(separator: "\n")
        #expect(text.contains("đã thực hiện 04 hoạt động thông tin, tuyên truyền"))
        #expect(text.contains("Đăng Bản tin điện tử CCHC của Chính phủ: 01 số bản tin (01 hoạt động)."))
        // HT04 gives people although the form has no people measure: body and annex agree.
        #expect(text.contains("500 bản/sản phẩm, 350 lượt người được tiếp cận (01 hoạt động)"))
        #expect(text.contains("Một hoạt động có thể tuyên truyền nhiều nội dung"))
        #expect(VN.count(0) == "00" && VN.count(9) == "09" && VN.count(10) == "10" && VN.count(1234) == "1.234")
    }

    @Test("Official form: blank number, agency name broken between names, abbreviations written out once, per-annex numbering")
    func officialForm() throws {
        let (hub, _, _) = try Self.quarter()
        let r = try Self.report(hub)
        let docx = try DocxInspector(try r.export(.docx))
        let paras = docx.paragraphs()
        #expect(paras.contains("Số:       /BC-BQLKKTCK"), "\(paras.filter { $0.hasPrefix("Số") })")
        #expect(
            paras.contains(
                "(Kèm theo Báo cáo số     /BC-BQLKKTCK ngày 16 tháng 3 năm 2026 của Ban Quản lý Khu kinh tế cửa khẩu Đồng Đăng - Lạng Sơn)"))
        // The heading's column holds about 25 capitals: the agency's name in three lines that keep
        // "khu kinh tế cửa khẩu" and the place whole (checked rendered in ReportCommandTests.docxToPDF).
        let agency = try #require(paras.firstIndex(of: "BAN QUẢN LÝ"))
        #expect(Array(paras[agency...].prefix(3)) == ["BAN QUẢN LÝ", "KHU KINH TẾ CỬA KHẨU", "ĐỒNG ĐĂNG - LẠNG SƠN"])
        // In a wider column, two lines, still never "…CỬA" / "KHẨU…" (the balanced cut would be there).
        #expect(
            DocxReport.headingLines("BAN QUẢN LÝ KHU KINH TẾ CỬA KHẨU ĐỒNG ĐĂNG - LẠNG SƠN", width: 32) == [
                "BAN QUẢN LÝ KHU KINH TẾ", "CỬA KHẨU ĐỒNG ĐĂNG - LẠNG SƠN",
            ])
        #expect(DocxReport.headingLines("SỞ NỘI VỤ", width: 25) == ["SỞ NỘI VỤ"])
        #expect(!DocxReport.headingLines("BAN QUẢN LÝ KHU KINH TẾ CỬA KHẨU ĐỒNG ĐĂNG - LẠNG SƠN", width: 20).contains { $0.hasPrefix("-") })
        let body = paras.joined(separator: "\n")
        for (short, full) in BodyText.abbreviations where body.contains(short) {
            let spelled = "\(full) (\(short))"
            #expect(body.components(separatedBy: spelled).count == 2, "«\(spelled)» should appear exactly once")
        }
        #expect(!body.contains("KH-Ủy ban"), "an abbreviation inside a document symbol was expanded")
        // Three sections: the body, then each annex numbered from 1, the number of page 1 hidden.
        let xml = String(decoding: try #require(docx.parts["word/document.xml"]), as: UTF8.self)
        let sections = xml.components(separatedBy: "<w:sectPr").dropFirst()
        #expect(sections.count == 3)
        #expect(sections.map { $0.contains("<w:pgNumType w:start=\"1\"/>") } == [false, true, true])
        #expect(sections.allSatisfy { $0.contains("<w:titlePg/>") })
        // The PAGE field carries no cached number: what shows is what the field computes.
        let header = String(decoding: try #require(docx.parts["word/header1.xml"]), as: UTF8.self)
        #expect(header.contains(" PAGE ") && !header.contains("<w:t>"))
    }

    @Test("--part section: the communication section and its figure annex, without heading, number, recipients or signature")
    func sectionPart() throws {
        let (hub, _, _) = try Self.quarter()
        let paras = try Self.paragraphs(try Self.report(hub), .external, .section)
        #expect(paras.first == "CÔNG TÁC THÔNG TIN, TUYÊN TRUYỀN CẢI CÁCH HÀNH CHÍNH")
        for absent in ["BÁO CÁO", "Nơi nhận:", "KT. TRƯỞNG BAN", "Phụ lục II", "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ KỲ TỚI"] {
            #expect(!paras.contains(absent), "section part has «\(absent)»")
        }
        for present in ["1. Công tác chỉ đạo, điều hành", "2. Kết quả thực hiện", "3. Đánh giá", "Phụ lục I"] {
            #expect(paras.contains(present), "section part lacks «\(present)»")
        }
    }

    @Test("The Office's draft and direction documents write sections I, III–V; other units may not write them")
    func officeDraft() throws {
        let (hub, vp, units) = try Self.quarter()
        // Without a draft: computed suggestions, never the units' own sentences.
        let plain = try Self.report(hub)
        #expect(!plain.text.fromDraft)
        #expect(plain.text.weaknesses.contains { $0.contains("chưa có hoạt động tuyên truyền trong kỳ") && $0.contains("cơ chế tài chính") })
        #expect(plain.text.weaknesses.contains { $0.contains("94,44%") })
        #expect(!plain.text.strengths.joined().contains("Tin bài còn ít"))
        try vp.addDirective(symbol: "15/BQLKKTCK-VP", issued: "2026-01-06", summary: "về việc triển khai Kế hoạch tuyên truyền")
        try vp.addDirective(symbol: "99/BQLKKTCK-VP", issued: "2026-04-02", summary: "văn bản của quý II")
        try vp.writeDraft(
            period: .quarter(2026, 1),
            parts: DraftParts(causes: "Chưa bố trí công chức phụ trách tin, bài.", proposals: "Đề nghị Sở Nội vụ tập huấn kỹ năng truyền thông số."))
        try hub.apply(try vp.ops(after: hub.versionVector()), source: .peer(authenticated: nil, unit: nil))
        let r = try Self.report(hub)
        #expect(r.text.fromDraft && r.text.causes == ["Chưa bố trí công chức phụ trách tin, bài."])
        // Parts the draft left empty take the suggestion.
        #expect(r.text.weaknesses == plain.text.weaknesses)
        let text = try Self.paragraphs(r, .external).joined(separator: "\n")
        #expect(text.contains("- Văn bản số 15/BQLKKTCK-VP ngày 06/01/2026 về việc triển khai Kế hoạch tuyên truyền."))
        #expect(!text.contains("99/BQLKKTCK-VP"), "a document of another period in section I")
        #expect(text.contains("3. Nguyên nhân") && text.contains("- Đề nghị Sở Nội vụ tập huấn kỹ năng truyền thông số."))
        #expect(!text.contains("Văn phòng: Đề nghị"))
        // Another unit may not write the Office's draft, locally or as a forged peer op.
        let tt = units[1]
        #expect(throws: SyncError.self) { try tt.writeDraft(period: .quarter(2026, 1), parts: DraftParts(causes: "x")) }
        #expect(throws: SyncError.self) { try tt.addDirective(symbol: "1/X", issued: "2026-01-02", summary: "x") }
        // The rule every receiver runs on a peer's op (the hub refuses the batch): only the Office.
        let authority = Authority(officeCode: "VP")
        for record in [RecordID(kind: .draft, owner: "VP", suffix: "2026-Q1"), try RecordID.parse("VB.VP.bbbb0099.3")] {
            #expect(throws: SyncError.self) {
                try authority.check(
                    writer: try #require(ReplicaID("bbbb0099")), writerUnit: "TTQLCK", record: record, field: "causes", value: .text("giả mạo"))
            }
            try authority.check(writer: try #require(ReplicaID("bbbb0001")), writerUnit: "VP", record: record, field: "causes", value: .text("x"))
        }
    }

    @Test("The consolidated draft syncs like any record; two Office machines editing one part concurrently leave a listed conflict")
    func draftConflict() throws {
        func office(_ replica: String) throws -> ReplicaStore {
            let s = try ReplicaStore.inMemory()
            try s.initialise(identity: .init(replica: try #require(ReplicaID(replica)), unit: "VP"))
            return s
        }
        let a = try office("bbbb0021")
        let b = try office("bbbb0022")
        try a.writeDraft(period: .quarter(2026, 1), parts: DraftParts(strengths: "Khởi đầu"))
        try b.apply(try a.ops(after: b.versionVector()), source: .peer(authenticated: nil, unit: "VP"))
        try a.writeDraft(period: .quarter(2026, 1), parts: DraftParts(strengths: "Bản của máy A"))
        try b.writeDraft(period: .quarter(2026, 1), parts: DraftParts(strengths: "Bản của máy B"))
        try b.apply(try a.ops(after: b.versionVector()), source: .peer(authenticated: nil, unit: "VP"))
        try a.apply(try b.ops(after: a.versionVector()), source: .peer(authenticated: nil, unit: "VP"))
        #expect(try a.dump() == b.dump())
        for s in [a, b] {
            let c = try s.conflicts().filter { $0.record == "TH.VP.2026-Q1" && $0.field == "strengths" }
            #expect(c.count == 1 && Set(c[0].candidates.map(\.value)) == [.text("Bản của máy A"), .text("Bản của máy B")])
        }
        let winner = try #require(try a.draft(period: "2026-Q1", unit: "VP")?.strengths)
        #expect(try b.draft(period: "2026-Q1", unit: "VP")?.strengths == winner)
    }

    @Test("A replica of the previous schema keeps duties, documents and drafts it does not know, and applies them after the upgrade")
    func olderSchemaKeepsThem() throws {
        let vp = try F.unit("VP", replica: "bbbb0031")
        try F.add(vp, date: "2026-02-02", form: "HT08", content: ["ND05"])
        try vp.addDirective(symbol: "15/BQLKKTCK-VP", issued: "2026-01-06", summary: "về việc triển khai")
        try vp.writeDraft(period: .quarter(2026, 1), parts: DraftParts(causes: "Nguyên nhân"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cchc-schema-v2-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("old.sqlite").path
        let created = try ReplicaStore.open(path: path, create: true)
        try created.initialise(identity: nil)
        try created.close()
        do {
            let old = try ReplicaStore.open(path: path, schema: .v2)
            let report = try old.apply(try vp.ops(after: old.versionVector()), source: OpSource.peer(authenticated: nil, unit: nil))
            #expect(report.unknown >= 3, "\(report)")
            #expect(try old.unknownOpCount() == report.unknown)
            try old.close()
        }
        let upgraded = try ReplicaStore.open(path: path)
        #expect(try upgraded.unknownOpCount() == 0)
        #expect(try upgraded.dump() == vp.dump())
        #expect(try upgraded.directives().count == 1 && upgraded.draft(period: "2026-Q1", unit: "VP")?.causes == "Nguyên nhân")
    }

    @Test("Periods as plan data: Nghị định 09 by default; a plan's own cut-off moves the windows, the late-entry rule and the deadline")
    func reportingCalendar() throws {
        // The default is exactly the code's Nghị định 09 windows, for every period of several years.
        for y in 2026...2030 {
            for p in [ReportPeriod.quarter(y, 1), .quarter(y, 2), .quarter(y, 3), .quarter(y, 4), .halfYear(y), .nineMonths(y), .year(y)] {
                #expect(ReportingCalendar.decree09.window(p) == p.window, "\(p)")
            }
        }
        #expect(ReportingCalendar.decree09.deadline(.quarter(2026, 1)) == "2026-03-20")
        // A province closing data at month end, reports due on the 10th of the next month.
        let monthEnd = ReportingCalendar(basis: "Quyết định 15/2026/QĐ-UBND", cutoffDay: 31, deadlineDay: 10)
        #expect(monthEnd.window(.quarter(2027, 1)) == ("2026-12-15", "2027-03-31"))
        #expect(monthEnd.window(.quarter(2027, 2)) == ("2027-04-01", "2027-06-30"))
        #expect(monthEnd.window(.quarter(2027, 4)) == ("2027-10-01", "2027-12-14"))
        #expect(monthEnd.window(.quarter(2028, 1)).from == "2027-12-15", "the plan year's bounds stay")
        #expect(monthEnd.deadline(.quarter(2027, 1)) == "2027-04-10" && monthEnd.deadline(.year(2027)) == "2028-01-10")
        #expect(ReportingCalendar(basis: "x", cutoffDay: 30, deadlineDay: 5).window(.quarter(2027, 1)).to == "2027-03-30")
        // The Office imports a 2027 plan that sets it; a replica reads it from the synced heading.
        let office = try ReplicaStore.inMemory()
        try office.initialise(identity: .init(replica: try #require(ReplicaID("bbbb0041")), unit: "VP"))
        var plan = Catalog.standard
        plan.plan.year = 2027
        plan.plan.title = "Kế hoạch tuyên truyền cải cách hành chính năm 2027"
        var bad = plan
        bad.reporting = ReportingCalendar(basis: "x", cutoffDay: 40, deadlineDay: 10)
        do {
            try office.importPlan(bad)
            Issue.record("a cut-off of 40 was accepted")
        } catch let e as SyncError {
            #expect(e.field == "reporting.cutoffDay" && e.message.contains("40"))
        }
        plan.reporting = monthEnd
        try office.importPlan(plan)
        let hub = try ReplicaStore.inMemory()
        try hub.initialise(identity: nil)
        try hub.apply(try office.ops(after: hub.versionVector()), source: OpSource.peer(authenticated: nil, unit: nil))
        #expect(try hub.planBook().plan(year: 2027)?.reporting == monthEnd)
        #expect(try hub.planBook().plan(year: 2026)?.reporting == nil)
        // An activity of 20/3/2027 is in 2027-Q1 under that plan (it would be Q2 under Nghị định 09).
        try F.add(office, date: "2027-03-20", form: "HT08", content: ["ND05"], quantity: 1, title: "Bản tin tháng 3")
        try hub.apply(try office.ops(after: hub.versionVector()), source: OpSource.peer(authenticated: nil, unit: nil))
        let heading = ReportHeading(catalog: plan, date: "2027-04-05")
        let q1 = try ReportSource(store: hub).consolidatedReport(for: .quarter(2027, 1), heading: heading)
        let q2 = try ReportSource(store: hub).consolidatedReport(for: .quarter(2027, 2), heading: heading)
        #expect(q1.to == "2027-03-31" && q1.totals.activities == 1 && q2.totals.activities == 0)
        #expect(q1.deadline == "2027-04-10")
        let inside = try Self.paragraphs(q1, .internal).joined(separator: "\n")
        #expect(inside.contains("theo Quyết định 15/2026/QĐ-UBND: đến ngày 31/3/2027; hạn gửi báo cáo của Ban: ngày 10/4/2027"))
        #expect(try DocxInspector(try q1.export(.docx)).paragraphs().contains("(Số liệu tính từ ngày 15/12/2026 đến ngày 31/3/2027)"))
        // The unit's own figures use the same window.
        #expect(try ReportSource(store: hub).unitFigures(unit: "VP", period: .quarter(2027, 1)).to == "2027-03-31")
    }
}
