import Foundation
import TestSupport
import Testing

@testable import SyncCore

@Suite("DOCX in the Nghị định 30/2020 layout")
struct ReportDocxTests {
    typealias F = ReportFixture

    static func sampleReport() throws -> ConsolidatedReport {
        let a = try F.unit("TTQLCK", replica: "dddd0001")
        let b = try F.unit("VP", replica: "dddd0002")
        try F.add(
            a, date: "2026-02-03", form: "HT02", content: ["ND01", "ND05"], quantity: 2, participants: 137,
            title: "Đối thoại doanh nghiệp <XNK> & \"logistics\"")
        try F.add(a, date: "2026-02-20", form: "HT04", content: ["ND05"], quantity: 1250, title: "Phát tờ rơi DVC trực tuyến")
        try F.add(
            b, date: "2026-03-02", form: "HT06", content: ["ND10"], quantity: 3, title: "Tin bài chuyển đổi số",
            url: "https://bqlkktck.langson.gov.vn/tin?id=1&x=2")
        try UnitReports(store: a).draft(
            period: .quarter(2026, 1),
            draft: UnitReportDraft(
                results: "Tổ chức 2 hội nghị đối thoại", issues: "Đường truyền ở cửa khẩu chưa ổn định", proposals: "Đề nghị trang bị thiết bị 4G",
                tthcTotal: 40, tthcOnline: 36, dossiersTotal: 1200, dossiersOnline: 1050))
        try UnitReports(store: a).submit(period: .quarter(2026, 1))
        let hub = try F.hub([a, b])
        return try ReportSource(store: hub).consolidatedReport(
            for: .quarter(2026, 1), heading: ReportHeading(catalog: .standard, number: "05", date: "2026-03-16"))
    }

    @Test("The archive is valid, every part is well-formed XML, and the page set-up follows Nghị định 30")
    func packageAndLayout() throws {
        let docx = try DocxInspector(try Self.sampleReport().export(.docx))
        for name in [
            "[Content_Types].xml", "_rels/.rels", "word/document.xml", "word/styles.xml", "word/settings.xml", "word/header1.xml", "word/header2.xml",
            "word/_rels/document.xml.rels", "docProps/core.xml",
        ] {
            let part = try #require(docx.parts[name], "missing \(name)")
            #expect(DocxInspector.wellFormedError(part) == nil, "\(name) is not well-formed")
        }
        // A4 portrait, margins 20/20/30/15 mm
        #expect(docx.attributes(of: "w:pgSz") == ["w:w": "11906", "w:h": "16838"])
        let margins = try #require(docx.attributes(of: "w:pgMar"))
        #expect(margins["w:top"] == "1134" && margins["w:bottom"] == "1134" && margins["w:left"] == "1701" && margins["w:right"] == "850")
        // Page number top-centre from page 2: a PAGE field in the default header, an empty first-page header
        let header = String(decoding: try #require(docx.parts["word/header1.xml"]), as: UTF8.self)
        #expect(header.contains("PAGE") && header.contains("w:jc w:val=\"center\""))
        // Page numbers in 13 pt (Nghị định 30: 13–14): every run of the field carries the size
        // (begin, instruction, separate, end: no cached number, the field computes it).
        let runs = header.components(separatedBy: "<w:r>").dropFirst()
        #expect(runs.count == 4 && runs.allSatisfy { $0.hasPrefix("<w:rPr><w:sz w:val=\"26\"/>") }, "\(header)")
        #expect(docx.attributes(of: "w:titlePg") != nil)
        let styles = String(decoding: try #require(docx.parts["word/styles.xml"]), as: UTF8.self)
        #expect(styles.contains("Times New Roman") && styles.contains("w:sz w:val=\"28\"") && styles.contains("w:firstLine=\"567\""))
        #expect(styles.contains("w:jc w:val=\"both\""))
    }

    @Test("Characters XML forbids (U+FFFE, U+FFFF) in a title are dropped, so the part stays well-formed")
    func nonCharactersDropped() throws {
        let a = try F.unit("TTQLCK", replica: "dddd0003")
        try F.add(a, date: "2026-02-03", form: "HT02", content: ["ND01"], quantity: 1, title: "Hội nghị\u{FFFE} đối thoại\u{FFFF}")
        let hub = try F.hub([a])
        let report = try ReportSource(store: hub).consolidatedReport(
            for: .quarter(2026, 1), heading: ReportHeading(catalog: .standard, number: "05", date: "2026-03-16"))
        let docx = try DocxInspector(try report.export(.docx))
        let document = try #require(docx.parts["word/document.xml"])
        #expect(DocxInspector.wellFormedError(document) == nil)
        #expect(String(decoding: document, as: UTF8.self).contains("Hội nghị đối thoại"))
    }

    @Test("Heading, title, sections, Nơi nhận, signature, annex and every total appear")
    func content() throws {
        let report = try Self.sampleReport()
        // The Office's internal version: the units' own sentences and the codes are in it.
        let docx = try DocxInspector(try report.export(.docx, audience: .internal))
        let paras = docx.paragraphs()
        let text = paras.joined(separator: "\n")
        for expected in [
            "UBND TỈNH LẠNG SƠN", "BAN QUẢN LÝ\nKHU KINH TẾ CỬA KHẨU\nĐỒNG ĐĂNG - LẠNG SƠN", "Số: 05/BC-BQLKKTCK",
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc", "Lạng Sơn, ngày 16 tháng 3 năm 2026", "BÁO CÁO",
            "Kết quả công tác thông tin, tuyên truyền cải cách hành chính quý I năm 2026", "I. CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH", "II. KẾT QUẢ THỰC HIỆN",
            "III. ĐÁNH GIÁ", "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ KỲ TỚI", "V. ĐỀ XUẤT, KIẾN NGHỊ", "Nơi nhận:", "- UBND tỉnh (b/c);", "- Sở Nội vụ (b/c);",
            "- Lưu: VT, VP.", "KT. TRƯỞNG BAN", "PHÓ TRƯỞNG BAN", "Hoàng Viết Đông", "Phụ lục I", "Phụ lục II",
            "(Kèm theo Báo cáo số 05/BC-BQLKKTCK ngày 16 tháng 3 năm 2026", "Đối thoại doanh nghiệp <XNK> & \"logistics\"",
            "https://bqlkktck.langson.gov.vn/tin?id=1&x=2", "Tổ chức 2 hội nghị đối thoại", "Đường truyền ở cửa khẩu chưa ổn định",
            "Đề nghị trang bị thiết bị 4G", "36/40", "87,5%", "1.050/1.200",
        ] {
            #expect(text.contains(expected), "missing «\(expected)»")
        }
        #expect(paras.contains { $0.hasSuffix("./.") })
        // The data window under the title and under each annex's title: December counts in quý I.
        let window = "(Số liệu tính từ ngày 15/12/2025 đến ngày 14/3/2026)"
        #expect(paras.filter { $0 == window }.count == 3, "\(paras.filter { $0.hasPrefix("(Số liệu") })")
        #expect(paras.firstIndex(of: window) == (paras.firstIndex(of: report.subject) ?? -2) + 1)
        // The closing sentence is kept with the Nơi nhận and signature table (never a signature alone on a page)
        let xml = String(decoding: try #require(docx.parts["word/document.xml"]), as: UTF8.self)
        let closing = try #require(xml.range(of: "./.</w:t>"))
        let paragraphStart = try #require(xml.range(of: "<w:p>", options: .backwards, range: xml.startIndex..<closing.lowerBound))
        #expect(xml[paragraphStart.lowerBound..<closing.lowerBound].contains("<w:keepNext/>"))
        // No "0 lượt người" in the running text
        #expect(!paras.contains { $0.hasPrefix("- ") && ($0.contains(" 0 lượt người") || $0.contains("tiếp cận 0 lượt")) })
        // Markdown ends its body with the same closing sentence and names an empty list
        let md = report.markdown()
        #expect(md.contains("Trên đây là báo cáo kết quả công tác thông tin, tuyên truyền cải cách hành chính quý I năm 2026 của Ban Quản lý"))
        #expect(!md.split(separator: "\n").contains("./."))
        // Every figure read from its own cell of the annex tables, every row of the catalog present.
        let tables = docx.tables()
        func table(_ second: String) throws -> [[String]] { try #require(tables.first { $0.first?.count ?? 0 > 1 && $0.first?[1] == second }) }
        let byContent = try table("Nội dung")
        #expect(byContent.count == 1 + report.totals.byContent.count)
        for (row, c) in zip(byContent.dropFirst(), report.totals.byContent) {
            #expect(row == [row[0], "\(c.code). \(c.title)", VN.number(c.activities), VN.number(c.participants)], "\(row)")
        }
        let byForm = try table("Hình thức")
        #expect(byForm.count == 2 + report.totals.byForm.count)
        for (row, f) in zip(byForm.dropFirst(), report.totals.byForm) {
            #expect(
                row == [row[0], "\(f.code). \(f.title)", VN.number(f.activities), VN.number(f.quantity), f.quantityUnit, VN.number(f.participants)],
                "\(row)")
        }
        #expect(byForm.last == ["", "Tổng số hoạt động", VN.number(report.totals.activities), "", "", VN.number(report.totals.peopleReached)])
        let byUnit = try table("Đơn vị")
        for u in report.units {
            let row = try #require(byUnit.first { $0.count > 1 && $0[1] == "\(u.name) (\(u.unit))" }, "\(u.unit)")
            #expect(row[2] == VN.number(u.figures.activities) && row[3] == VN.number(u.figures.peopleReached), "\(row)")
        }
        #expect(byUnit.last?[2] == VN.number(report.totals.activities))
        // The evidence annex has one row per counted activity.
        let evidence = try table("Ngày")
        #expect(evidence.count == 1 + report.evidence.count)
        // Sections come in order
        let order = ["BÁO CÁO", "I. CÔNG TÁC", "II. KẾT QUẢ", "III. ĐÁNH GIÁ", "IV. PHƯƠNG HƯỚNG", "V. ĐỀ XUẤT", "Nơi nhận:", "Phụ lục I"].map {
            key in
            paras.firstIndex { $0.hasPrefix(key) } ?? -1
        }
        #expect(order == order.sorted() && !order.contains(-1), "\(order)")
    }

    @Test("Equal reports give byte-identical files in every format")
    func deterministic() throws {
        let r = try Self.sampleReport()
        for f in ReportFormat.allCases { #expect(try r.export(f) == (try r.export(f)), "\(f)") }
    }

    @Test("CSV: UTF-8 BOM, CRLF, RFC 4180 quoting and no formula injection")
    func csvQuoting() {
        #expect(ConsolidatedReport.csvField("a,b") == "\"a,b\"")
        #expect(ConsolidatedReport.csvField("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(ConsolidatedReport.csvField("line\nbreak") == "\"line\nbreak\"")
        #expect(ConsolidatedReport.csvField("=HYPERLINK(1)") == "'=HYPERLINK(1)")
        #expect(ConsolidatedReport.csvField("-5") == "-5")
        #expect(ConsolidatedReport.csvField("Đồng Đăng") == "Đồng Đăng")
    }

    @Test("The fast evidence writer gives the same JSON bytes as JSONEncoder")
    func jsonMatchesEncoder() throws {
        var report = try Self.sampleReport()
        report.evidence.append(
            EvidenceItem(
                id: "HD.VP.x.1", unit: "VP", date: "2026-03-01", form: "HT06", content: ["ND01", "ND02"],
                title: "Tab\t, quote \" back\\ slash/ nl\n cr\r \u{08}\u{0C}\u{01}\u{1F} Đồng Đăng 🇻🇳", url: "https://a.vn/x?y=1&z=\"2\"",
                quantity: nil, participants: 0, lateFrom: "2025-Q4"))
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var expected = try e.encode(report)
        expected.append(0x0A)
        #expect(try report.jsonData() == expected)
        let decoded = try JSONDecoder().decode(ConsolidatedReport.self, from: try report.jsonData())
        #expect(decoded == report)
    }

    @Test("XML escaping drops control characters and escapes markup")
    func escaping() {
        #expect(WordML.escape("a<b>&\"c'\u{1}") == "a&lt;b&gt;&amp;&quot;c&apos;")
        #expect(WordML.escape("Đồng Đăng") == "Đồng Đăng")
    }
}

@Suite("Ngày viết theo Nghị định 30 / dates as the decree writes them")
struct OfficialDateTests {
    @Test("Số 0 đứng trước chỉ với ngày dưới 10 và tháng 1, 2 / a leading zero only for days below 10 and months 1, 2")
    func officialDays() {
        #expect(ReportHeading.officialDay("2026-03-14") == "14/3/2026")
        #expect(ReportHeading.officialDay("2025-12-15") == "15/12/2025")
        #expect(ReportHeading.officialDay("2026-01-05") == "05/01/2026")
        #expect(ReportHeading.officialDay("2026-02-28") == "28/02/2026")
        #expect(ReportHeading.longDate("2026-03-16") == "ngày 16 tháng 3 năm 2026")
        #expect(ReportHeading.longDate("2026-02-05") == "ngày 05 tháng 02 năm 2026")
        #expect(ReportHeading.longDate("2026-02-30") == nil)
        #expect(ReportHeading.dataWindow(from: "2025-12-15", to: "2026-09-14") == "(Số liệu tính từ ngày 15/12/2025 đến ngày 14/9/2026)")
    }
}
