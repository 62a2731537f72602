import Foundation

/// The consolidated report as a DOCX in the layout of Nghị định 30/2020/NĐ-CP, Phụ lục I:
/// the two-column heading, title and subject, sections I–V, Nơi nhận and signature, then the
/// figure tables in Phụ lục I and the evidence list in Phụ lục II.
struct DocxReport {
    let report: ConsolidatedReport
    var audience: ReportAudience = .external
    var part: ReportPart = .full

    var isInternal: Bool { audience == .internal }

    typealias P = WordML.Para
    typealias R = WordML.Run

    func data() throws -> Data {
        try WordML.package(document: document(), title: "Báo cáo " + report.subject)
    }

    /// `word/document.xml` as UTF-8 bytes, part by part in the order of the document.
    func document() -> [UInt8] {
        var w = WordML.document(capacity: 65_536 + 700 * report.evidence.count)
        let body = BodyText(report: report, audience: audience)
        if part == .section {
            // The section to paste into the Ban's periodic CCHC report, then its figure annex.
            var title = P(align: "center", firstLine: 0, before: 0)
            title.keepNext = true
            w.paragraph(title, [R("CÔNG TÁC THÔNG TIN, TUYÊN TRUYỀN CẢI CÁCH HÀNH CHÍNH", bold: true, size: 14)])
            w.paragraph(
                P(align: "center", firstLine: 0, before: 60, after: 240),
                [R(ReportHeading.dataWindow(from: report.from, to: report.to), italic: true, size: 14)])
            writeBlocks(&w, body.blocks(part: .section))
            w.endSection(restartNumbering: false)
            writeFigureAnnex(&w)
            w.finishDocument(restartNumbering: true)
            return w.bytes
        }
        writeHeading(&w)
        writeTitle(&w)
        writeBlocks(&w, body.blocks())
        // Kept with the Nơi nhận and signature table: a signature never stands alone on a page.
        var closing = P()
        closing.keepNext = true
        w.paragraph(closing, [R(body.closingLine)])
        writeRecipientsAndSignature(&w)
        // Each annex is a section of its own whose pages are numbered from 1 (Nghị định 30: the
        // annex's numbering does not continue the body's).
        w.endSection(restartNumbering: false)
        writeFigureAnnex(&w)
        w.endSection(restartNumbering: true)
        writeEvidenceAnnex(&w)
        w.finishDocument(restartNumbering: true)
        return w.bytes
    }

    /// Sections I–V: headings in the `Heading` style, paragraphs as body text.
    func writeBlocks(_ w: inout WordML, _ blocks: [BodyBlock]) {
        for b in blocks {
            switch b {
            case .heading(let t): w.sectionHeading(t)
            case .paragraph(let t): w.paragraph(t)
            }
        }
    }

    // MARK: Heading and title

    /// One paragraph as XML, for the cells of the layout tables.
    static func fragment(_ para: P, _ runs: [R]) -> String {
        var x = WordML()
        x.paragraph(para, runs)
        return x.body
    }

    /// A borderless two-column table (Nghị định 30, Phụ lục I, ô 1–5): parent body and agency
    /// over the number; the national motto over the place and date.
    func writeHeading(_ w: inout WordML) {
        let h = report.heading
        let p = Self.fragment
        let centre = P(style: "TableText", align: "center")
        var rule = P(style: "TableText", align: "center")
        rule.ruleBelow = true
        var leftRule = rule
        leftRule.indentLeft = 1500
        leftRule.indentRight = 1500
        var mottoPara = centre
        mottoPara.ruleBelow = true
        mottoPara.indentLeft = 950
        mottoPara.indentRight = 950
        let agency = Self.headingLines(h.agency.uppercased(), width: 25).map { p(centre, [R($0, bold: true, size: 12.5)]) }.joined()
        let left = p(centre, [R(h.parent.uppercased(), size: 12.5)]) + agency + p(leftRule, [R("", size: 3)])
        let right =
            p(centre, [R("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold: true, size: 12.5)])
            + p(mottoPara, [R("Độc lập - Tự do - Hạnh phúc", bold: true, size: 13.5)])
        var spaced = centre
        spaced.before = 120
        let number = p(spaced, [R(h.numberLine, size: 13)])
        let date = p(spaced, [R(h.placeAndDate(year: report.year), italic: true, size: 14)])
        w.raw(WordML.table(widths: [4300, 5450], rows: [[left, right], [number, date]], borders: false, indent: -200))
    }

    /// The agency's name in the heading's narrow column (about 25 capitals of 12.5 pt fit in it, as
    /// LibreOffice renders it): as few lines as fit in `width` characters, broken between words,
    /// the longest line as short as it can be, and of equally good breaks the one that keeps later
    /// lines whole (`BAN QUẢN LÝ` / `KHU KINH TẾ CỬA KHẨU` / `ĐỒNG ĐĂNG - LẠNG SƠN`, never `…CỬA` /
    /// `KHẨU…`); no line starts or ends with the dash that joins two names, and no break falls inside
    /// a word of two syllables that agency names use (`compounds`).
    static func headingLines(_ text: String, width: Int) -> [String] {
        let words = text.split(separator: " ").map(String.init)
        guard text.count > width, words.count > 1 else { return [text] }
        var best: [String]?
        func better(_ a: [String], than b: [String]) -> Bool {
            if a.count != b.count { return a.count < b.count }
            let ma = a.map(\.count).max() ?? 0
            let mb = b.map(\.count).max() ?? 0
            if ma != mb { return ma < mb }
            return Array(a.map(\.count).reversed()).lexicographicallyPrecedes(b.map(\.count).reversed(), by: >)
        }
        // Every way to cut the words into lines (a name has a dozen words at most).
        func search(_ from: Int, _ lines: [String]) {
            if from == words.count {
                if best.map({ better(lines, than: $0) }) ?? true { best = lines }
                return
            }
            if let b = best, lines.count >= b.count { return }
            for end in (from + 1)...words.count {
                let line = words[from..<end].joined(separator: " ")
                if line.count > width { break }
                if end < words.count, words[end] == "-" || words[end - 1] == "-" || compounds.contains("\(words[end - 1]) \(words[end])") {
                    continue
                }
                search(end, lines + [line])
            }
        }
        if words.count <= 16 { search(0, []) }
        return best ?? [text]
    }

    /// Two-syllable words of agency names, never broken across lines in the heading.
    static let compounds: Set<String> = [
        "QUẢN LÝ", "KINH TẾ", "CỬA KHẨU", "ĐỒNG ĐĂNG", "LẠNG SƠN", "ỦY BAN", "NHÂN DÂN", "NỘI VỤ", "VĂN PHÒNG", "HÀNH CHÍNH", "TRUNG TÂM",
        "CÔNG NGHIỆP", "CHẾ XUẤT", "CÔNG NGHỆ", "KHOA HỌC", "TÀI CHÍNH", "KẾ HOẠCH", "ĐẦU TƯ", "XÂY DỰNG", "GIAO THÔNG", "VẬN TẢI",
    ]

    /// `BÁO CÁO`, the subject and the short rule under it.
    func writeTitle(_ w: inout WordML) {
        var title = P(align: "center", firstLine: 0, before: 360)
        title.keepNext = true
        w.paragraph(title, [R("BÁO CÁO", bold: true, size: 14)])
        w.paragraph(P(align: "center", firstLine: 0, before: 0), [R(report.subject, bold: true, size: 14)])
        w.paragraph(
            P(align: "center", firstLine: 0, before: 60), [R(ReportHeading.dataWindow(from: report.from, to: report.to), italic: true, size: 14)])
        var subjectRule = P(style: "TableText", align: "center", indentLeft: 3300, indentRight: 3300)
        subjectRule.ruleBelow = true
        subjectRule.after = 240
        w.paragraph(subjectRule, [R("", size: 3)])
    }

    // MARK: Nơi nhận and signature

    /// A borderless two-column table: Nơi nhận on the left, the signer block on the right.
    func writeRecipientsAndSignature(_ w: inout WordML) {
        let h = report.heading
        let p = Self.fragment
        var recipients = p(P(style: "TableText", before: 240), [R("Nơi nhận:", bold: true, italic: true, size: 12)])
        for r in h.recipients { recipients += p(P(style: "TableText", before: 0, after: 0), [R("- " + r, size: 11)]) }
        var sign = p(P(style: "TableText", align: "center", before: 240), [R(h.signer.authority, bold: true, size: 14)])
        sign += p(P(style: "TableText", align: "center", before: 0), [R(h.signer.title, bold: true, size: 14)])
        for _ in 0..<4 { sign += p(P(style: "TableText", align: "center"), [R("", size: 14)]) }
        sign += p(P(style: "TableText", align: "center", before: 240), [R(h.signer.name, bold: true, size: 14)])
        w.raw(WordML.table(widths: [4600, 4755], rows: [[recipients, sign]], borders: false))
    }

    // MARK: Annexes

    /// The three centred lines that open an annex on a new page: label, title, and the report it
    /// is attached to.
    func writeAnnexTitle(_ w: inout WordML, _ label: String, _ title: String) {
        let h = report.heading
        let dateText = h.date.flatMap(ReportHeading.longDate).map { " \($0)" } ?? ""
        let attachment = "(Kèm theo Báo cáo số \(h.number ?? "    ")/BC-\(h.agencyShort)\(dateText) của \(h.agencyName))"
        w.paragraph(P(align: "center", firstLine: 0, before: 0), [R(label, bold: true)])
        w.paragraph(P(align: "center", firstLine: 0, before: 60), [R(title, bold: true)])
        w.paragraph(
            P(align: "center", firstLine: 0, before: 60), [R(ReportHeading.dataWindow(from: report.from, to: report.to), italic: true, size: 13)])
        w.paragraph(P(align: "center", firstLine: 0, before: 60, after: 120), [R(attachment, italic: true, size: 13)])
    }

    /// The bold caption over an annex table, kept with it.
    static func writeCaption(_ w: inout WordML, _ t: String) {
        var para = P(firstLine: 0, before: 200, after: 60)
        para.keepNext = true
        w.paragraph(para, [R(t, bold: true, size: 13)])
    }

    /// Phụ lục I: the figures by content, form and unit, online services and task progress.
    func writeFigureAnnex(_ w: inout WordML) {
        writeAnnexTitle(
            &w, "Phụ lục I", "SỐ LIỆU KẾT QUẢ CÔNG TÁC THÔNG TIN, TUYÊN TRUYỀN CẢI CÁCH HÀNH CHÍNH \(report.periodName.uppercased())")
        Self.writeCaption(&w, "1. Theo nội dung tuyên truyền")
        w.raw(WordML.table(widths: [700, 5455, 1600, 1600], rows: contentRows(), borders: true, header: true))
        Self.writeCaption(&w, "2. Theo hình thức tuyên truyền")
        w.raw(WordML.table(widths: [600, 3655, 1150, 1150, 1500, 1300], rows: formRows(), borders: true, header: true))
        Self.writeCaption(&w, "3. Theo đơn vị")
        let unitWidths = isInternal ? [600, 3555, 1300, 1400, 1100, 1400] : [600, 5255, 1700, 1800]
        w.raw(WordML.table(widths: unitWidths, rows: unitRows(), borders: true, header: true))
        Self.writeCaption(&w, "4. Dịch vụ công trực tuyến")
        w.raw(WordML.table(widths: [2955, 2000, 1100, 2200, 1100], rows: publicServiceRows(), borders: true, header: true))
        Self.writeCaption(&w, "5. Kết quả thực hiện nhiệm vụ theo Kế hoạch")
        w.raw(WordML.table(widths: [600, 3555, 2200, 3000], rows: dutyRows(), borders: true, header: true))
        if isInternal, !report.assignedTasks.isEmpty {
            Self.writeCaption(&w, "6. Tiến độ nhiệm vụ Văn phòng giao")
            w.raw(WordML.table(widths: [1300, 4055, 800, 1100, 1050, 1050], rows: taskRows(), borders: true, header: true))
        }
    }

    /// Header cells: bold, centred except the named column.
    static func headerRow(_ titles: [String], left: Int) -> [String] {
        titles.enumerated().map { i, t in cell(t, bold: true, align: i == left ? nil : centre) }
    }

    func contentRows() -> [[String]] {
        var rows = [Self.headerRow(["STT", "Nội dung", "Số hoạt động", "Số lượt người"], left: 1)]
        for (i, x) in report.totals.byContent.enumerated() {
            rows.append([
                cell(String(i + 1), align: centre), cell(isInternal ? "\(x.code). \(x.title)" : x.title), cell(VN.number(x.activities), align: right),
                cell(VN.number(x.participants), align: right),
            ])
        }
        return rows
    }

    func formRows() -> [[String]] {
        let t = report.totals
        var rows = [Self.headerRow(["STT", "Hình thức", "Số hoạt động", "Số lượng", "Đơn vị tính", "Số lượt người"], left: 1)]
        for (i, f) in t.byForm.enumerated() {
            rows.append([
                cell(String(i + 1), align: centre), cell(isInternal ? "\(f.code). \(f.title)" : f.title), cell(VN.number(f.activities), align: right),
                cell(VN.number(f.quantity), align: right), cell(f.quantityUnit, align: centre), cell(VN.number(f.participants), align: right),
            ])
        }
        rows.append([
            cell("", align: centre), cell("Tổng số hoạt động", bold: true), cell(VN.number(t.activities), bold: true, align: right), cell(""),
            cell(""), cell(VN.number(t.peopleReached), bold: true, align: right),
        ])
        return rows
    }

    func unitRows() -> [[String]] {
        let t = report.totals
        guard isInternal else {
            var rows = [Self.headerRow(["STT", "Đơn vị", "Số hoạt động", "Số lượt người"], left: 1)]
            for (i, u) in report.units.enumerated() {
                rows.append([
                    cell(String(i + 1), align: centre), cell(u.name), cell(VN.number(u.figures.activities), align: right),
                    cell(VN.number(u.figures.peopleReached), align: right),
                ])
            }
            rows.append([
                cell(""), cell("Tổng cộng", bold: true), cell(VN.number(t.activities), bold: true, align: right),
                cell(VN.number(t.peopleReached), bold: true, align: right),
            ])
            return rows
        }
        var rows = [Self.headerRow(["STT", "Đơn vị", "Số hoạt động", "Số lượt người", "Nhập muộn", "Báo cáo kỳ"], left: 1)]
        for (i, u) in report.units.enumerated() {
            rows.append([
                cell(String(i + 1), align: centre), cell("\(u.name) (\(u.unit))"), cell(VN.number(u.figures.activities), align: right),
                cell(VN.number(u.figures.peopleReached), align: right), cell(String(u.figures.lateEntries), align: right),
                cell(u.status.label, align: centre),
            ])
        }
        rows.append([
            cell(""), cell("Tổng cộng", bold: true), cell(VN.number(t.activities), bold: true, align: right),
            cell(VN.number(t.peopleReached), bold: true, align: right),
            cell(String(t.lateEntries), bold: true, align: right), cell(""),
        ])
        return rows
    }

    /// Each duty of the plan: who carries it out and what served it in the period.
    func dutyRows() -> [[String]] {
        let body = BodyText(report: report, audience: audience)
        let names = Dictionary(report.units.map { ($0.unit, $0.name) }, uniquingKeysWith: { a, _ in a })
        var rows = [Self.headerRow(["STT", "Nhiệm vụ", "Đơn vị thực hiện", "Kết quả trong kỳ"], left: 1)]
        for (i, d) in report.duties.enumerated() {
            let text = body.evidenceText(d)
            rows.append([
                cell(String(i + 1), align: centre), cell(body.dutyTitle(d)), cell(d.units.map { names[$0] ?? $0 }.joined(separator: "; ")),
                cell(text.prefix(1).uppercased() + text.dropFirst()),
            ])
        }
        return rows
    }

    func publicServiceRows() -> [[String]] {
        var rows = [Self.headerRow(["Đơn vị", "TTHC trực tuyến toàn trình / đủ điều kiện", "Tỷ lệ", "Hồ sơ trực tuyến / tổng số", "Tỷ lệ"], left: 0)]
        func row(_ name: String, _ s: PublicServiceFigures, bold: Bool) -> [String] {
            [
                cell(name, bold: bold), cell("\(VN.number(s.tthcOnline))/\(VN.number(s.tthcTotal))", bold: bold, align: centre),
                cell(VN.percent(s.tthcOnlinePercent), bold: bold, align: right),
                cell("\(VN.number(s.dossiersOnline))/\(VN.number(s.dossiersTotal))", bold: bold, align: centre),
                cell(VN.percent(s.dossiersOnlinePercent), bold: bold, align: right),
            ]
        }
        for u in report.units {
            if let s = u.publicServices { rows.append(row(u.name, s, bold: false)) }
        }
        rows.append(row("Tổng cộng", report.publicServices, bold: true))
        return rows
    }

    func taskRows() -> [[String]] {
        var rows = [Self.headerRow(["Mã", "Nhiệm vụ / đơn vị", "Tổng", "Hoàn thành", "Đang thực hiện", "Chưa thực hiện"], left: 1)]
        for d in report.assignedTasks {
            rows.append([
                cell(d.code, align: centre), cell(d.title), cell(String(d.total), align: right), cell(String(d.done), align: right),
                cell(String(d.inProgress), align: right), cell(String(d.notStarted), align: right),
            ])
        }
        return rows
    }

    /// Phụ lục II: every counted activity, one row each.
    func writeEvidenceAnnex(_ w: inout WordML) {
        writeAnnexTitle(&w, "Phụ lục II", "DANH MỤC MINH CHỨNG CÁC HOẠT ĐỘNG THÔNG TIN, TUYÊN TRUYỀN CẢI CÁCH HÀNH CHÍNH")
        w.beginTable(widths: [700, 1300, 1700, 1000, 4655], borders: true)
        w.row(Self.headerRow(["STT", "Ngày", "Đơn vị", "Hình thức", "Tiêu đề, đường dẫn"], left: 4), header: true)
        // Up to a hundred thousand rows in a year's report: the four short cells are paragraphs of
        // the default style (no paragraph properties), the title cell names `EvL` and the URL and
        // late-entry notes the character style `EvNote`; cells have no `tcPr` (the fixed layout
        // takes the widths from `tblGrid`); nothing goes through temporary arrays.
        let centred = "<w:tc><w:p><w:r><w:t>"
        let close = "</w:t></w:r></w:p></w:tc>"
        let note = "<w:r><w:br/></w:r><w:r><w:rPr><w:rStyle w:val=\"EvNote\"/></w:rPr>"
        // The external version names units and forms, not their codes.
        let unitNames = Dictionary(report.units.map { ($0.unit, $0.name) }, uniquingKeysWith: { a, _ in a })
        let formNames = Dictionary(report.totals.byForm.map { ($0.code, $0.title) }, uniquingKeysWith: { a, _ in a })
        for (i, e) in report.evidence.enumerated() {
            w.raw("<w:tr><w:trPr><w:cantSplit/></w:trPr>")
            w.raw(centred)
            w.number(i + 1)
            w.raw(close)
            w.raw(centred)
            w.day(e.date)
            w.raw(close)
            w.raw(centred)
            w.text(isInternal ? e.unit : unitNames[e.unit] ?? e.unit)
            w.raw(close)
            w.raw(centred)
            w.text(isInternal ? e.form : formNames[e.form] ?? e.form)
            w.raw(close)
            w.raw("<w:tc><w:p><w:pPr><w:pStyle w:val=\"EvL\"/></w:pPr><w:r>")
            w.textElement(e.title)
            w.raw("</w:r>")
            if let u = e.url {
                w.raw(note)
                w.textElement(u)
                w.raw("</w:r>")
            }
            if isInternal, let l = e.lateFrom {
                w.raw(note)
                w.textElement("Nhập muộn (kỳ \(l))")
                w.raw("</w:r>")
            }
            w.raw("</w:p></w:tc></w:tr>")
        }
        if report.evidence.isEmpty { w.row([cell(""), cell(""), cell(""), cell(""), cell("Không có hoạt động trong kỳ.")]) }
        w.endTable()
    }
}

/// A cell paragraph of the annex tables.
private func cell(_ text: String, bold: Bool = false, align: String? = nil) -> String {
    WordML.cell(text, bold: bold, align: align)
}

private let centre = "center"
private let right = "right"

extension WordML {
    /// A heading of the report body (I., II., 1., 2.…) in the `Heading` style.
    mutating func sectionHeading(_ text: String) {
        paragraph(Para(style: "Heading"), [Run(text, bold: true)])
    }
}
