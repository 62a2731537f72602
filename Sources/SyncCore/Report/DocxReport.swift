import Foundation

/// The consolidated report as a DOCX in the layout of Nghị định 30/2020/NĐ-CP, Phụ lục I:
/// the two-column heading, title and subject, sections I–V, Nơi nhận and signature, then the
/// figure tables in Phụ lục I and the evidence list in Phụ lục II.
struct DocxReport {
    let report: ConsolidatedReport

    func data() throws -> Data {
        try WordML.package(document: document(), title: "Báo cáo " + report.subject)
    }

    /// `word/document.xml` as UTF-8 bytes.
    func document() -> [UInt8] {
        var w = WordML.document(capacity: 65_536 + 700 * report.evidence.count)
        let h = report.heading
        typealias P = WordML.Para
        typealias R = WordML.Run
        let centre = P(style: "TableText", align: "center")

        // Heading: a borderless two-column table (Nghị định 30, Phụ lục I, ô 1–5).
        func p(_ para: P, _ runs: [R]) -> String {
            var x = WordML()
            x.paragraph(para, runs)
            return x.body
        }
        var rule = P(style: "TableText", align: "center")
        rule.ruleBelow = true
        var leftRule = rule
        leftRule.indentLeft = 1500
        leftRule.indentRight = 1500
        var mottoPara = centre
        mottoPara.ruleBelow = true
        mottoPara.indentLeft = 950
        mottoPara.indentRight = 950
        let left =
            p(centre, [R(h.parent.uppercased(), size: 12.5)]) + p(centre, [R(h.agency.uppercased(), bold: true, size: 12.5)])
            + p(leftRule, [R("", size: 3)])
        let right =
            p(centre, [R("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold: true, size: 12.5)])
            + p(mottoPara, [R("Độc lập - Tự do - Hạnh phúc", bold: true, size: 13.5)])
        var spaced = centre
        spaced.before = 120
        let number = p(spaced, [R(h.numberLine, size: 13)])
        let date = p(spaced, [R(h.placeAndDate(year: report.year), italic: true, size: 14)])
        w.raw(WordML.table(widths: [4300, 5450], rows: [[left, right], [number, date]], borders: false, indent: -200))

        var title = P(align: "center", firstLine: 0, before: 360)
        title.keepNext = true
        w.paragraph(title, [R("BÁO CÁO", bold: true, size: 14)])
        w.paragraph(P(align: "center", firstLine: 0, before: 0), [R(report.subject, bold: true, size: 14)])
        var subjectRule = P(style: "TableText", align: "center", indentLeft: 3300, indentRight: 3300)
        subjectRule.ruleBelow = true
        subjectRule.after = 240
        w.paragraph(subjectRule, [R("", size: 3)])

        let body = BodyText(report: report)
        func heading(_ t: String) { w.paragraph(P(style: "Heading"), [R(t, bold: true)]) }
        func text(_ t: String) { w.paragraph(t) }

        // I.
        heading("I. CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH")
        for l in body.directionLines { text(l) }

        // II.
        heading("II. KẾT QUẢ THỰC HIỆN")
        let t = report.totals
        text(
            "Từ ngày \(CalendarDay.vietnamese(report.from)) đến ngày \(CalendarDay.vietnamese(report.to)), các phòng, đơn vị đã thực hiện \(VN.number(t.activities)) hoạt động thông tin, tuyên truyền cải cách hành chính, tiếp cận \(VN.number(t.peopleReached)) lượt người."
        )
        heading("1. Kết quả theo nội dung tuyên truyền")
        let contents = t.byContent.filter { $0.activities > 0 }
        if contents.isEmpty { text("Trong kỳ chưa ghi nhận hoạt động theo các nội dung của Kế hoạch.") }
        for c in contents {
            // "0 lượt người được tiếp cận" reads oddly in a signed report: say nothing of people then.
            let people = c.participants > 0 ? ", \(VN.number(c.participants)) lượt người được tiếp cận" : ""
            text("- \(c.title) (\(c.code)): \(VN.number(c.activities)) hoạt động\(people).")
        }
        heading("2. Kết quả theo hình thức tuyên truyền")
        let forms = t.byForm.filter { $0.activities > 0 }
        if forms.isEmpty { text("Trong kỳ chưa ghi nhận hoạt động.") }
        for f in forms {
            text("- \(f.title) (\(f.code)): \(VN.measure(f)) (\(VN.number(f.activities)) hoạt động).")
        }
        heading("3. Kết quả theo đơn vị")
        for u in report.units {
            let late = u.figures.lateEntries == 0 ? "" : ", trong đó \(u.figures.lateEntries) hoạt động nhập muộn của kỳ trước"
            let people = u.figures.peopleReached > 0 ? ", tiếp cận \(VN.number(u.figures.peopleReached)) lượt người" : ""
            text("- \(u.name): \(VN.number(u.figures.activities)) hoạt động\(late)\(people).")
        }
        heading("4. Kết quả cung cấp, sử dụng dịch vụ công trực tuyến")
        let ps = report.publicServices
        if ps.tthcTotal == 0 && ps.dossiersTotal == 0 {
            text("Các đơn vị chưa báo cáo số liệu dịch vụ công trực tuyến trong kỳ.")
        } else {
            text(
                "- Số TTHC được cung cấp dịch vụ công trực tuyến toàn trình: \(VN.number(ps.tthcOnline))/\(VN.number(ps.tthcTotal)) TTHC đủ điều kiện, đạt \(VN.percent(ps.tthcOnlinePercent))."
            )
            text(
                "- Số hồ sơ tiếp nhận, xử lý trực tuyến: \(VN.number(ps.dossiersOnline))/\(VN.number(ps.dossiersTotal)) hồ sơ, đạt \(VN.percent(ps.dossiersOnlinePercent))."
            )
        }
        heading("5. Tiến độ thực hiện nhiệm vụ")
        for d in report.tasksByDuty where d.total > 0 {
            text("- \(d.code) – \(d.title): \(body.progressText(d)).")
        }
        heading("6. Tình hình gửi báo cáo của các đơn vị")
        let names = Dictionary(report.units.map { ($0.unit, $0.name) }, uniquingKeysWith: { a, _ in a })
        func list(_ codes: [String]) -> String { codes.isEmpty ? "không có" : codes.map { names[$0] ?? $0 }.joined(separator: "; ") }
        text("- Đơn vị đã gửi báo cáo: \(list(report.submitted)).")
        text("- Đơn vị chưa gửi báo cáo: \(list(report.notSubmitted)).")
        if t.lateEntries > 0 {
            text(
                "- Có \(t.lateEntries) hoạt động nhập sau thời điểm đơn vị gửi báo cáo kỳ trước, được tổng hợp vào kỳ này (ghi chú «nhập muộn» tại Phụ lục II)."
            )
        }
        let changed = report.units.filter { $0.frozenMatches == false }.map(\.unit)
        if !changed.isEmpty {
            text(
                "- Số liệu của \(list(changed)) đã thay đổi sau khi gửi báo cáo (hoạt động được sửa hoặc xóa sau thời điểm gửi); báo cáo này dùng số liệu tính lại từ dữ liệu gốc."
            )
        }
        text("(Chi tiết số liệu tại Phụ lục I và danh mục minh chứng tại Phụ lục II kèm theo.)")

        // III.
        heading("III. ĐÁNH GIÁ")
        heading("1. Kết quả đạt được")
        for l in body.narrative(\.results, empty: "Các đơn vị chưa gửi nội dung đánh giá kết quả.") { text("- \(l)") }
        heading("2. Tồn tại, hạn chế")
        for l in body.narrative(\.issues, empty: "Các đơn vị chưa nêu tồn tại, hạn chế.") { text("- \(l)") }

        // IV.
        heading("IV. PHƯƠNG HƯỚNG, NHIỆM VỤ KỲ TỚI")
        for l in body.nextLines { text("- \(l)") }

        // V.
        heading("V. ĐỀ XUẤT, KIẾN NGHỊ")
        let proposals = body.narrative(\.proposals, empty: "Không có đề xuất, kiến nghị.")
        for l in proposals { text("- \(l)") }
        // Kept with the Nơi nhận and signature table: a signature never stands alone on a page.
        var closing = P()
        closing.keepNext = true
        w.paragraph(closing, [R(body.closingLine)])

        // Nơi nhận and signature.
        var recipients = p(P(style: "TableText", before: 240), [R("Nơi nhận:", bold: true, italic: true, size: 12)])
        for r in h.recipients { recipients += p(P(style: "TableText", before: 0, after: 0), [R("- " + r, size: 11)]) }
        var sign = p(P(style: "TableText", align: "center", before: 240), [R(h.signer.authority, bold: true, size: 14)])
        sign += p(P(style: "TableText", align: "center", before: 0), [R(h.signer.title, bold: true, size: 14)])
        for _ in 0..<4 { sign += p(P(style: "TableText", align: "center"), [R("", size: 14)]) }
        sign += p(P(style: "TableText", align: "center", before: 240), [R(h.signer.name, bold: true, size: 14)])
        w.raw(WordML.table(widths: [4600, 4755], rows: [[recipients, sign]], borders: false))

        annexes(&w)
        w.finishDocument()
        return w.bytes
    }

    /// `BAN QUẢN LÝ KHU KINH TẾ …` → `Ban Quản lý Khu kinh tế cửa khẩu Đồng Đăng - Lạng Sơn` for running text.
    func capitalizedAgency(_ agency: String) -> String {
        let known = "Ban Quản lý Khu kinh tế cửa khẩu Đồng Đăng - Lạng Sơn"
        return agency.uppercased() == known.uppercased() ? known : agency
    }

    func annexes(_ w: inout WordML) {
        typealias P = WordML.Para
        typealias R = WordML.Run
        let h = report.heading
        func c(_ text: String, bold: Bool = false, italic: Bool = false, align: String? = nil, size: Double? = nil) -> String {
            WordML.cell(text, bold: bold, italic: italic, align: align, size: size)
        }
        let dateText = h.date.map { " ngày \(CalendarDay.vietnamese($0))" } ?? ""
        let attachment = "(Kèm theo Báo cáo số \(h.number ?? "    ")/BC-\(h.agencyShort)\(dateText) của \(capitalizedAgency(h.agency)))"

        func annexTitle(_ label: String, _ title: String) {
            var first = P(align: "center", firstLine: 0, before: 0)
            first.pageBreakBefore = true
            w.paragraph(first, [R(label, bold: true)])
            w.paragraph(P(align: "center", firstLine: 0, before: 60), [R(title, bold: true)])
            w.paragraph(P(align: "center", firstLine: 0, before: 60, after: 120), [R(attachment, italic: true, size: 13)])
        }
        func caption(_ t: String) {
            var para = P(firstLine: 0, before: 200, after: 60)
            para.keepNext = true
            w.paragraph(para, [R(t, bold: true, size: 13)])
        }
        let right = "right"
        let centre = "center"

        annexTitle(
            "Phụ lục I", "SỐ LIỆU KẾT QUẢ CÔNG TÁC THÔNG TIN, TUYÊN TRUYỀN CẢI CÁCH HÀNH CHÍNH \(report.periodName.uppercased())")
        let t = report.totals
        caption("1. Theo nội dung tuyên truyền")
        var rows = [
            [
                c("STT", bold: true, align: centre), c("Nội dung", bold: true), c("Số hoạt động", bold: true, align: centre),
                c("Số lượt người", bold: true, align: centre),
            ]
        ]
        for (i, x) in t.byContent.enumerated() {
            rows.append([
                c(String(i + 1), align: centre), c("\(x.code). \(x.title)"), c(VN.number(x.activities), align: right),
                c(VN.number(x.participants), align: right),
            ])
        }
        w.raw(WordML.table(widths: [700, 5455, 1600, 1600], rows: rows, borders: true, header: true))

        caption("2. Theo hình thức tuyên truyền")
        rows = [
            [
                c("STT", bold: true, align: centre), c("Hình thức", bold: true), c("Số hoạt động", bold: true, align: centre),
                c("Số lượng", bold: true, align: centre), c("Đơn vị tính", bold: true, align: centre), c("Số lượt người", bold: true, align: centre),
            ]
        ]
        for (i, f) in t.byForm.enumerated() {
            rows.append([
                c(String(i + 1), align: centre), c("\(f.code). \(f.title)"), c(VN.number(f.activities), align: right),
                c(VN.number(f.quantity), align: right),
                c(f.quantityUnit, align: centre), c(VN.number(f.participants), align: right),
            ])
        }
        rows.append([
            c("", align: centre), c("Tổng số hoạt động", bold: true), c(VN.number(t.activities), bold: true, align: right), c(""), c(""),
            c(VN.number(t.peopleReached), bold: true, align: right),
        ])
        w.raw(WordML.table(widths: [600, 3655, 1150, 1150, 1500, 1300], rows: rows, borders: true, header: true))

        caption("3. Theo đơn vị")
        rows = [
            [
                c("STT", bold: true, align: centre), c("Đơn vị", bold: true), c("Số hoạt động", bold: true, align: centre),
                c("Số lượt người", bold: true, align: centre), c("Nhập muộn", bold: true, align: centre), c("Báo cáo kỳ", bold: true, align: centre),
            ]
        ]
        for (i, u) in report.units.enumerated() {
            rows.append([
                c(String(i + 1), align: centre), c(u.name), c(VN.number(u.figures.activities), align: right),
                c(VN.number(u.figures.peopleReached), align: right),
                c(String(u.figures.lateEntries), align: right), c(VN.status(u.status), align: centre),
            ])
        }
        rows.append([
            c(""), c("Tổng cộng", bold: true), c(VN.number(t.activities), bold: true, align: right),
            c(VN.number(t.peopleReached), bold: true, align: right),
            c(String(t.lateEntries), bold: true, align: right), c(""),
        ])
        w.raw(WordML.table(widths: [600, 3555, 1300, 1400, 1100, 1400], rows: rows, borders: true, header: true))

        caption("4. Dịch vụ công trực tuyến")
        rows = [
            [
                c("Đơn vị", bold: true), c("TTHC trực tuyến toàn trình / đủ điều kiện", bold: true, align: centre),
                c("Tỷ lệ", bold: true, align: centre),
                c("Hồ sơ trực tuyến / tổng số", bold: true, align: centre), c("Tỷ lệ", bold: true, align: centre),
            ]
        ]
        for u in report.units {
            guard let s = u.publicServices else { continue }
            rows.append([
                c(u.name), c("\(VN.number(s.tthcOnline))/\(VN.number(s.tthcTotal))", align: centre), c(VN.percent(s.tthcOnlinePercent), align: right),
                c("\(VN.number(s.dossiersOnline))/\(VN.number(s.dossiersTotal))", align: centre),
                c(VN.percent(s.dossiersOnlinePercent), align: right),
            ])
        }
        let ps = report.publicServices
        rows.append([
            c("Tổng cộng", bold: true), c("\(VN.number(ps.tthcOnline))/\(VN.number(ps.tthcTotal))", bold: true, align: centre),
            c(VN.percent(ps.tthcOnlinePercent), bold: true, align: right),
            c("\(VN.number(ps.dossiersOnline))/\(VN.number(ps.dossiersTotal))", bold: true, align: centre),
            c(VN.percent(ps.dossiersOnlinePercent), bold: true, align: right),
        ])
        w.raw(WordML.table(widths: [2955, 2000, 1100, 2200, 1100], rows: rows, borders: true, header: true))

        caption("5. Tiến độ thực hiện nhiệm vụ")
        rows = [
            [
                c("Mã", bold: true, align: centre), c("Nhiệm vụ / đơn vị", bold: true), c("Tổng", bold: true, align: centre),
                c("Hoàn thành", bold: true, align: centre), c("Đang thực hiện", bold: true, align: centre),
                c("Chưa thực hiện", bold: true, align: centre),
            ]
        ]
        for d in report.tasksByDuty + report.tasksByUnit {
            rows.append([
                c(d.code, align: centre), c(d.title), c(String(d.total), align: right), c(String(d.done), align: right),
                c(String(d.inProgress), align: right), c(String(d.notStarted), align: right),
            ])
        }
        w.raw(WordML.table(widths: [1300, 4055, 800, 1100, 1050, 1050], rows: rows, borders: true, header: true))

        annexTitle("Phụ lục II", "DANH MỤC MINH CHỨNG CÁC HOẠT ĐỘNG THÔNG TIN, TUYÊN TRUYỀN CẢI CÁCH HÀNH CHÍNH")
        w.beginTable(widths: [700, 1300, 1700, 1000, 4655], borders: true)
        w.row(
            [
                c("STT", bold: true, align: centre), c("Ngày", bold: true, align: centre), c("Đơn vị", bold: true, align: centre),
                c("Hình thức", bold: true, align: centre), c("Tiêu đề, đường dẫn", bold: true),
            ], header: true)
        // Up to a hundred thousand rows in a year's report: written with the evidence paragraph
        // styles (no per-run formatting), cells without `tcPr` (the fixed layout takes the widths
        // from `tblGrid`) and without temporary arrays.
        let centred = "<w:tc><w:p><w:pPr><w:pStyle w:val=\"EvC\"/></w:pPr><w:r><w:t>"
        let close = "</w:t></w:r></w:p></w:tc>"
        for (i, e) in report.evidence.enumerated() {
            w.raw("<w:tr><w:trPr><w:cantSplit/></w:trPr>")
            w.raw(centred)
            w.number(i + 1)
            w.raw(close)
            w.raw(centred)
            w.day(e.date)
            w.raw(close)
            w.raw(centred)
            w.text(e.unit)
            w.raw(close)
            w.raw(centred)
            w.text(e.form)
            w.raw(close)
            w.raw("<w:tc><w:p><w:pPr><w:pStyle w:val=\"EvL\"/></w:pPr><w:r><w:t xml:space=\"preserve\">")
            w.text(e.title)
            w.raw("</w:t></w:r>")
            if let u = e.url {
                w.raw("<w:r><w:br/></w:r><w:r><w:rPr><w:i/><w:sz w:val=\"20\"/></w:rPr><w:t>")
                w.text(u)
                w.raw("</w:t></w:r>")
            }
            if let l = e.lateFrom {
                w.raw("<w:r><w:br/></w:r><w:r><w:rPr><w:i/><w:iCs/><w:sz w:val=\"20\"/><w:szCs w:val=\"20\"/></w:rPr><w:t xml:space=\"preserve\">")
                w.text("Nhập muộn (kỳ \(l))")
                w.raw("</w:t></w:r>")
            }
            w.raw("</w:p></w:tc></w:tr>")
        }
        if report.evidence.isEmpty { w.row([c(""), c(""), c(""), c(""), c("Không có hoạt động trong kỳ.")]) }
        w.endTable()
    }
}
