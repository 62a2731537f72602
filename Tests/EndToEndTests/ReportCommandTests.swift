import Foundation
import SyncCore
import TestSupport
import Testing

@Suite("Reports end to end: unit-client report draft/show/submit, hub report in every format", .serialized)
struct ReportCommandTests {
    struct Planned {
        var unit: String
        var date: String
        var form: String
        var content: String
        var quantity: Int
        var participants: Int?
        var url: String?
        var title: String
    }

    /// What `scenario()` leaves: its folder (removed when the scenario is released), the hub's
    /// database, and the activities recorded.
    struct Scenario {
        let folder: TempDir
        var dir: URL { folder.url }
        let hub: String
        let recorded: [Planned]
        let late: Planned
    }

    /// Two units record activities with the real CLI; TTQLCK submits Q1 then records a late entry;
    /// the hub's store receives both units' ops from `unit-client ops export` files.
    static func scenario() throws -> Scenario {
        let folder = try TempDir("report-e2e")
        let dir = folder.url
        let dbs = ["TTQLCK": folder.path("ttqlck.sqlite"), "CPCM-QLDTDN": folder.path("qldtdn.sqlite")]
        for (unit, db) in dbs { try Fixtures.replica(db, unit: unit, in: dir) }
        let planned = [
            Planned(
                unit: "TTQLCK", date: "2026-02-03", form: "HT02", content: "ND01,ND05", quantity: 2, participants: 137,
                title: "Đối thoại với doanh nghiệp xuất nhập khẩu, \"logistics\""),
            Planned(
                unit: "TTQLCK", date: "2026-03-14", form: "HT06", content: "ND05", quantity: 3, url: "https://bqlkktck.langson.gov.vn/tin?id=7&p=1",
                title: "Tin bài về dịch vụ công trực tuyến"),
            Planned(unit: "TTQLCK", date: "2026-03-15", form: "HT04", content: "ND06", quantity: 500, title: "Phát tờ rơi một cửa"),
            Planned(
                unit: "CPCM-QLDTDN", date: "2026-01-20", form: "HT01", content: "ND01", quantity: 1, participants: 45,
                title: "Tập huấn Luật Đầu tư"),
        ]
        func add(_ p: Planned) throws {
            try Fixtures.addActivity(
                db: dbs[p.unit] ?? "", in: dir, form: p.form, content: p.content, date: p.date, title: p.title, quantity: p.quantity,
                participants: p.participants, url: p.url)
        }
        for p in planned { try add(p) }
        let ttq = dbs["TTQLCK"] ?? ""
        var r = try Run.unitClient([
            "report", "draft", "--db", ttq, "--period", "2026-Q1", "--results", "Tổ chức hội nghị đối thoại", "--issues", "Mạng chập chờn",
            "--proposals", "Trang bị thiết bị 4G", "--tthc-total", "40", "--tthc-online", "36", "--dossiers-total", "1200", "--dossiers-online",
            "1050",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        r = try Run.unitClient(["report", "submit", "--db", ttq, "--period", "2026-Q1"])
        #expect(r.status == 0, "\(r.stderr)")
        // Timestamps have one-second resolution: make sure the late entry is recorded after the submission.
        Thread.sleep(forTimeInterval: 1.2)
        let late = Planned(
            unit: "TTQLCK", date: "2026-03-10", form: "HT01", content: "ND02", quantity: 1, participants: 9, title: "Sinh hoạt chuyên đề nhập muộn")
        try add(late)
        // The Office drafts but never submits
        r = try Run.unitClient(["report", "draft", "--db", dbs["CPCM-QLDTDN"] ?? "", "--period", "2026-Q1", "--results", "Đang tổng hợp"])
        #expect(r.status == 0, "\(r.stderr)")

        let hubPath = folder.path("hub.sqlite")
        let hub = try ReplicaStore.open(path: hubPath, create: true)
        try hub.initialise(identity: nil)
        for (unit, db) in dbs {
            let file = dir.appendingPathComponent("\(unit).ops").path
            let e = try Run.unitClient(["ops", "export", "--db", db, "--out", file])
            #expect(e.status == 0, "\(e.stderr)")
            try hub.apply(try OpsFile.read(path: file).batch, source: .peer(authenticated: nil, unit: nil))
        }
        return Scenario(folder: folder, hub: hubPath, recorded: planned, late: late)
    }

    @Test("Unit report commands: bad input exits non-zero naming field and value and changes nothing; submit freezes")
    func unitReportCommands() throws {
        let temp = try TempDir()
        let dir = temp.url
        defer { withExtendedLifetime(temp) {} }
        let db = temp.path("u.sqlite")
        try Fixtures.replica(db, unit: "TTQLCK", in: dir)
        try Fixtures.addActivity(db: db, in: dir, form: "HT04", content: "ND05", date: "2026-02-01", title: "Tờ rơi", quantity: 300)
        let before = try Run.unitClient(["dump", "--db", db]).stdout
        let bad: [([String], String, String)] = [
            (["--period", "2026-Q5"], "period", "2026-Q5"),
            (["--period", "2026-Q1", "--tthc-total", "-3"], "tthc_total", "-3"),
            (["--period", "2026-Q1", "--tthc-total", "5", "--tthc-online", "6"], "tthc_online", "6"),
            (["--period", "2026-Q1", "--dossiers-total", "mười"], "dossiers_total", "mười"),
            (["--period", "2026-03-01_2026-03-31"], "period", "2026-03-01_2026-03-31"),
        ]
        for (args, field, value) in bad {
            let r = try Run.unitClient(["report", "draft", "--db", db] + args)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stderr.contains(field) && r.stderr.contains(value), "\(r.stderr)")
        }
        #expect(try Run.unitClient(["dump", "--db", db]).stdout == before)

        #expect(try Run.unitClient(["report", "draft", "--db", db, "--period", "2026-Q1", "--results", "Phát 300 tờ rơi"]).status == 0)
        let show = try Run.unitClient(["report", "show", "--db", db, "--period", "2026-Q1", "--json"])
        #expect(show.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: show.stdout) as? [String: Any])
        let figures = try #require(json["figures"] as? [String: Any])
        #expect(figures["activities"] as? Int == 1)
        #expect((json["report"] as? [String: Any])?["status"] as? String == "draft")

        let submit = try Run.unitClient(["report", "submit", "--db", db, "--period", "2026-Q1"])
        #expect(submit.status == 0, "\(submit.stderr)")
        let frozen = try Run.unitClient(["dump", "--db", db]).stdout
        let again = try Run.unitClient(["report", "draft", "--db", db, "--period", "2026-Q1", "--results", "Sửa lại"])
        #expect(again.status == 6)
        #expect(again.stderr.contains("đã được gửi"))
        #expect(try Run.unitClient(["report", "submit", "--db", db, "--period", "2026-Q1"]).status == 6)
        #expect(try Run.unitClient(["dump", "--db", db]).stdout == frozen)
    }

    @Test("hub report: JSON and CSV totals equal an independent count of the recorded activities; late entry in Q2")
    func hubReportTotals() throws {
        let s = try Self.scenario()
        defer { withExtendedLifetime(s) {} }
        func expected(_ period: String) -> [Planned] {
            switch period {
            case "2026-Q1": return s.recorded.filter { $0.date >= "2025-12-15" && $0.date <= "2026-03-14" }
            case "2026-Q2": return s.recorded.filter { $0.date >= "2026-03-15" && $0.date <= "2026-06-14" } + [s.late]
            default: return s.recorded + [s.late]
            }
        }
        for period in ["2026-Q1", "2026-Q2", "2026-H1"] {
            let want = expected(period)
            let out = s.dir.appendingPathComponent("\(period).json").path
            let r = try Run.hub([
                "report", "--db", s.hub, "--period", period, "--format", "json", "--out", out, "--number", "05", "--date", "2026-03-16",
            ])
            #expect(r.status == 0, "\(r.stderr)")
            // An empty list is named, never printed as "đã gửi: ;"
            if period == "2026-Q2" { #expect(r.out.contains("Đơn vị đã gửi: không có; chưa gửi: "), "\(r.out)") }
            #expect(!r.out.contains(": ;") && !r.out.contains(": ."), "\(r.out)")
            let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
            let totals = try #require(root["totals"] as? [String: Any])
            #expect(totals["activities"] as? Int == want.count, "\(period)")
            #expect(totals["peopleReached"] as? Int == want.reduce(0) { $0 + ($1.participants ?? 0) }, "\(period)")
            #expect(totals["lateEntries"] as? Int == (period == "2026-Q2" ? 1 : 0), "\(period)")
            for f in try #require(totals["byForm"] as? [[String: Any]]) {
                let mine = want.filter { $0.form == f["code"] as? String }
                #expect(f["activities"] as? Int == mine.count)
                #expect(f["quantity"] as? Int == mine.reduce(0) { $0 + $1.quantity })
            }
            for c in try #require(totals["byContent"] as? [[String: Any]]) {
                let code = try #require(c["code"] as? String)
                #expect(
                    c["activities"] as? Int == want.filter { $0.content.split(separator: ",").contains(Substring(code)) }.count, "\(period) \(code)")
            }
            let csvPath = s.dir.appendingPathComponent("\(period).csv").path
            #expect(try Run.hub(["report", "--db", s.hub, "--period", period, "--format", "csv", "--out", csvPath]).status == 0)
            let csv = try Data(contentsOf: URL(fileURLWithPath: csvPath))
            #expect(csv.starts(with: [0xEF, 0xBB, 0xBF]))
            let text = String(decoding: csv.dropFirst(3), as: UTF8.self)
            let rows = text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            let header = rows[0].components(separatedBy: ",")
            let total = try #require(rows.first { $0.hasPrefix("Tổng hợp,TONG,") })
            // Plain numeric columns never need quoting, so a split by comma is safe for this row.
            let cells = total.components(separatedBy: ",")
            let shift = cells.count - header.count
            let actsIndex = try #require(header.firstIndex(of: "Số hoạt động")) + shift
            #expect(Int(cells[actsIndex]) == want.count, "\(period) csv")
        }
        // Submission status and online-service percentages (computed from counts)
        let out = s.dir.appendingPathComponent("q1.json").path
        #expect(try Run.hub(["report", "--db", s.hub, "--period", "2026-Q1", "--format", "json", "--out", out]).status == 0)
        let q1 = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        #expect(q1["submitted"] as? [String] == ["TTQLCK"])
        #expect(Set(q1["notSubmitted"] as? [String] ?? []) == ["VP", "CPCM-QLDTDN", "CPCM-QHXDMT"])
        let ps = try #require(q1["publicServices"] as? [String: Any])
        #expect(ps["dossiersOnlinePercent"] as? Double == 87.5)
        let units = try #require(q1["units"] as? [[String: Any]])
        #expect(units.first { $0["unit"] as? String == "TTQLCK" }?["frozenMatches"] as? Bool == true)
    }

    @Test("hub report refuses bad input with the field and value and a non-zero exit")
    func hubReportBadInput() throws {
        let s = try Self.scenario()
        defer { withExtendedLifetime(s) {} }
        let out = s.dir.appendingPathComponent("x.docx").path
        let cases: [([String], String, String)] = [
            (["--period", "2026-Q5", "--out", out], "period", "2026-Q5"),
            (["--period", "2026-Q1", "--format", "pdf", "--out", out], "format", "pdf"),
            (["--period", "2026-Q1", "--date", "2026-02-30", "--out", out], "date", "2026-02-30"),
            (["--from", "2026-03-31", "--to", "2026-03-01", "--out", out], "to", "2026-03-01"),
            (["--period", "2026-Q1", "--out", "/khong/co/thu-muc/x.docx"], "out", "/khong/co/thu-muc/x.docx"),
        ]
        for (args, field, value) in cases {
            let r = try Run.hub(["report", "--db", s.hub] + args)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stderr.contains(field) && r.stderr.contains(value), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
        // A missing option is named as missing (not as an empty value).
        for (args, missing) in [([String](), "--period"), (["--from", "2026-03-01"], "--to")] {
            let r = try Run.hub(["report", "--db", s.hub, "--out", out] + args)
            #expect(r.status == 2 && r.stderr.contains("Thiếu «\(missing)»"), "\(args): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
        // Ad-hoc window: every activity dated in it, no submission cycle
        let md = s.dir.appendingPathComponent("march.md").path
        let r = try Run.hub(["report", "--db", s.hub, "--from", "2026-03-01", "--to", "2026-03-31", "--format", "md", "--out", md])
        #expect(r.status == 0, "\(r.stderr)")
        let text = try String(contentsOfFile: md, encoding: .utf8)
        #expect(text.contains("# BÁO CÁO") && text.contains("từ ngày 01/03/2026 đến ngày 31/03/2026"))
        #expect(text.contains("các phòng, đơn vị đã thực hiện 03 hoạt động"), "\(text)")
    }

    @Test(
        "DOCX converts to PDF with LibreOffice: it has pages and the expected text",
        .enabled(if: Run.which("soffice") != nil, "LibreOffice (soffice) không có trên máy này: bỏ qua kiểm tra DOCX → PDF; .ci/run cài đặt nó."))
    func docxToPDF() throws {
        let s = try Self.scenario()
        defer { withExtendedLifetime(s) {} }
        let docx = s.dir.appendingPathComponent("bao-cao-quy-1.docx")
        let r = try Run.hub([
            "report", "--db", s.hub, "--period", "2026-Q1", "--format", "docx", "--out", docx.path, "--number", "05", "--date", "2026-03-16",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let inspector = try DocxInspector(try Data(contentsOf: docx))
        for (name, data) in inspector.parts where name.hasSuffix(".xml") || name.hasSuffix(".rels") {
            #expect(DocxInspector.wellFormedError(data) == nil, "\(name)")
        }
        let soffice = try #require(Run.which("soffice"))
        let profile = s.dir.appendingPathComponent("lo-profile")
        let conv = try Run.program(
            soffice, ["-env:UserInstallation=file://\(profile.path)", "--headless", "--convert-to", "pdf", "--outdir", s.dir.path, docx.path])
        let pdf = s.dir.appendingPathComponent("bao-cao-quy-1.pdf")
        #expect(FileManager.default.fileExists(atPath: pdf.path), "soffice: \(conv.out) \(conv.stderr)")
        let pdftotext = try #require(Run.which("pdftotext"), "poppler-utils (pdftotext) is needed with LibreOffice")
        let text = try Run.program(pdftotext, ["-layout", pdf.path, "-"]).out
        let pages = text.components(separatedBy: "\u{0C}").filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        #expect(pages.count >= 3, "report + annexes span several pages, got \(pages.count)")
        for expected in [
            "UBND TỈNH LẠNG SƠN", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Số: 05/BC-BQLKKTCK",
            "Lạng Sơn, ngày 16 tháng 3 năm 2026", "BÁO CÁO", "Nơi nhận:", "KT. TRƯỞNG BAN", "PHÓ TRƯỞNG BAN", "Phụ lục I",
        ] {
            #expect(text.contains(expected), "PDF lacks «\(expected)»")
        }
        // The page number appears at the top of page 2 but not on page 1 (the PAGE field computes it:
        // the header holds no cached digits), and each annex is numbered from 1 again: its first page
        // unnumbered, its second page "2" whatever the body's length.
        func top(_ page: String) -> String { page.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(!top(pages[0]).hasPrefix("1"))
        // Every page after a section's first (the body's, each annex's: they begin with "Phụ lục")
        // starts with its own number in that section. At least one is 3 or more, so a header that
        // printed a fixed "2" (a cached field result, or plain text) fails.
        var seen: [(page: Int, number: Int)] = []
        var inSection = 0
        for (i, page) in pages.enumerated() {
            let t = top(page)
            if i == 0 || t.hasPrefix("Phụ lục") {
                inSection = 1
                continue
            }
            inSection += 1
            let printed = Int(t.prefix { $0.isNumber })
            #expect(printed == inSection, "page \(i + 1) of the PDF should be numbered \(inSection): «\(t.prefix(40))»")
            seen.append((i + 1, printed ?? -1))
        }
        let tops = pages.map { String(top($0).prefix(16)).replacingOccurrences(of: "\n", with: " ") }
        #expect(seen.contains { $0.number >= 3 }, "no section reaches a third page: \(tops)")
        #expect(pages.filter { top($0).hasPrefix("Phụ lục") }.count >= 2, "each annex starts its own section: \(tops)")
        // The agency's name breaks between its names in the rendered heading.
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.contains { $0.hasPrefix("KHU KINH TẾ CỬA KHẨU") } && lines.contains { $0.hasPrefix("ĐỒNG ĐĂNG - LẠNG SƠN") })
        #expect(!lines.contains("KHẨU"), "the agency's name broke inside «cửa khẩu»")
    }
}
