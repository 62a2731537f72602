import Foundation

/// Vietnamese wording of numbers, dates, percentages and measures, shared by the human-readable
/// exports.
enum VN {
    /// `1234567` → `1.234.567`.
    static func number<I: BinaryInteger>(_ n: I) -> String {
        let s = String(n.magnitude)
        var out = ""
        for (i, ch) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(".") }
            out.append(ch)
        }
        return n < 0 ? "-" + out : out
    }

    /// A count as a clerk writes it in running text: a leading zero below ten (`01`, `09`), then
    /// as `number` (`10`, `1.234`).
    static func count<I: BinaryInteger>(_ n: I) -> String {
        n >= 0 && n < 10 ? "0" + String(n) : number(n)
    }

    /// The first letter in lower case, unless the first word is an abbreviation (`TTHC`, `CCHC`).
    static func lowerFirst(_ s: String) -> String {
        let first = s.prefix { $0 != " " }
        if first.count > 1, first.allSatisfy({ $0.isUppercase }) { return s }
        return s.prefix(1).lowercased() + s.dropFirst()
    }

    /// `2026-03-05` → `05/03/2026`, without splitting strings: it runs once per evidence row.
    static func day(_ date: String) -> String {
        var w = ByteWriter(capacity: 10)
        return w.vietnameseDay(date) ? w.string : CalendarDay.vietnamese(date)
    }

    /// `85.71` → `85,71%`; nil → `—`.
    static func percent(_ p: Double?) -> String {
        guard let p else { return "—" }
        var s = String(format: "%.2f", p)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s.replacingOccurrences(of: ".", with: ",") + "%"
    }

    /// `3 lớp/buổi, 120 lượt người tham dự`.
    static func measure(_ f: FormTotal) -> String {
        var s = "\(number(f.quantity)) \(f.quantityUnit)"
        if let p = f.participantsUnit, f.participants > 0 { s += ", \(number(f.participants)) \(p)" }
        return s
    }

    static func paragraphs(_ text: String?) -> [String] {
        (text ?? "").split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// One piece of the report body: a heading (I., 1.…) or a paragraph.
enum BodyBlock: Equatable {
    case heading(String)
    case paragraph(String)
}

/// The prose of the report body (sections I–V), shared by the Markdown and DOCX exports, in the
/// words a clerk writes (docs/REPORTS.md): duties from their evidence, the Ban's own assessment,
/// counts below ten with a leading zero, abbreviations written out at first use; the external
/// version names units by their names and leaves out codes and the units' submission status.
struct BodyText {
    let report: ConsolidatedReport
    let audience: ReportAudience

    init(report: ConsolidatedReport, audience: ReportAudience = .external) {
        self.report = report
        self.audience = audience
    }

    var isInternal: Bool { audience == .internal }

    /// The last sentence of the body, ending with "./." as Nghị định 30 asks.
    var closingLine: String {
        let subject = report.subject.prefix(1).lowercased() + report.subject.dropFirst()
        return "Trên đây là báo cáo \(subject) của \(report.heading.agencyName)./."
    }

    /// Sections I–V as the full report has them; `numbered: false` gives the section to paste
    /// into the Ban's CCHC report (1.–3., no section IV–V).
    func blocks(part: ReportPart = .full) -> [BodyBlock] {
        var out: [BodyBlock] = []
        let section = part == .section
        out.append(.heading(section ? "1. Công tác chỉ đạo, điều hành" : "I. CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH"))
        out += directionBlocks()
        out.append(.heading(section ? "2. Kết quả thực hiện" : "II. KẾT QUẢ THỰC HIỆN"))
        out += resultBlocks(sub: section ? "2." : "")
        out.append(.heading(section ? "3. Đánh giá" : "III. ĐÁNH GIÁ"))
        out += assessmentBlocks(sub: section ? "3." : "")
        if !section {
            out.append(.heading("IV. PHƯƠNG HƯỚNG, NHIỆM VỤ KỲ TỚI"))
            out += report.text.nextTasks.map { .paragraph("- \($0)") }
            out.append(.heading("V. ĐỀ XUẤT, KIẾN NGHỊ"))
            let p = report.text.proposals
            out += p.isEmpty ? [.paragraph("Không có đề xuất, kiến nghị.")] : p.map { .paragraph("- \($0)") }
        }
        return Self.spellOutAbbreviations(out)
    }

    // MARK: I

    func directionBlocks() -> [BodyBlock] {
        var out: [BodyBlock] = []
        let basis = report.legalBasis.map(Self.citation)
        let opening =
            basis.isEmpty
            ? "Ban Quản lý đã ban hành và triển khai \(report.planTitle) đến các phòng, đơn vị trực thuộc."
            : "Thực hiện \(basis.joined(separator: "; ")), Ban Quản lý đã ban hành và triển khai \(report.planTitle) đến các phòng, đơn vị trực thuộc."
        out.append(.paragraph(opening))
        if !report.directives.isEmpty {
            out.append(.paragraph("Trong kỳ, Ban Quản lý đã ban hành các văn bản chỉ đạo, đôn đốc, hướng dẫn thực hiện:"))
            for d in report.directives {
                out.append(.paragraph("- Văn bản số \(d.symbol) ngày \(ReportHeading.officialDay(d.issued)) \(VN.lowerFirst(d.summary))."))
            }
        }
        out += report.text.direction.map { .paragraph($0) }
        let office = Set(report.heading.officeDuties)
        let mine = report.duties.filter { office.contains($0.code) }
        if !mine.isEmpty { out.append(.paragraph("Kết quả thực hiện các nhiệm vụ của Văn phòng theo Kế hoạch:")) }
        for d in mine {
            out.append(.paragraph("- \(dutyTitle(d)): \(evidenceText(d))."))
        }
        return out
    }

    /// `Kế hoạch số 120/KH-UBND ngày 30/3/2026 của UBND tỉnh về CCHC tỉnh Lạng Sơn năm 2026`.
    static func citation(_ r: Catalog.LegalReference) -> String {
        let parts = r.symbol.split(separator: " ", maxSplits: 1)
        let number = parts.count == 2 ? String(parts[1]) : r.symbol
        var rest = r.title
        var kind = "Văn bản"
        for k in ["Kế hoạch", "Nghị quyết", "Quyết định", "Chỉ thị", "Kết luận", "Nghị định"] where rest.hasPrefix(k + " ") {
            kind = k
            rest = String(rest.dropFirst(k.count + 1))
        }
        let date = r.date.map { " ngày \(ReportHeading.officialDay($0))" } ?? ""
        if !rest.hasPrefix("của "), number.hasSuffix("-UBND") { rest = "của UBND tỉnh về " + rest }
        return "\(kind) số \(number)\(date) \(rest)"
    }

    func dutyTitle(_ d: DutyResult) -> String { isInternal ? "\(d.code) – \(d.title)" : d.title }

    /// What served a duty in the period, or that nothing did.
    func evidenceText(_ d: DutyResult) -> String {
        if let submitted = d.reportsSubmitted, let expected = d.reportsExpected {
            return
                "\(VN.count(submitted))/\(VN.count(expected)) phòng, đơn vị đã gửi báo cáo \(report.periodName); Văn phòng tổng hợp tại báo cáo này"
        }
        guard d.activities > 0 else { return "chưa có hoạt động trong kỳ" }
        let forms = d.byForm.map { f in
            var s = "\(VN.count(f.quantity)) \(f.quantityUnit)"
            if f.participants > 0 { s += ", \(VN.number(f.participants)) \(f.participantsUnit ?? "lượt người được tiếp cận")" }
            return s
        }
        return "đã thực hiện \(VN.count(d.activities)) hoạt động (\(forms.joined(separator: "; ")))"
    }

    // MARK: II

    func resultBlocks(sub: String) -> [BodyBlock] {
        var out: [BodyBlock] = []
        func heading(_ n: Int, _ t: String) { out.append(.heading("\(sub)\(n). \(t)")) }
        func text(_ t: String) { out.append(.paragraph(t)) }
        let t = report.totals
        text(
            "Từ ngày \(ReportHeading.officialDay(report.from)) đến ngày \(ReportHeading.officialDay(report.to)), các phòng, đơn vị đã thực hiện \(VN.count(t.activities)) hoạt động thông tin, tuyên truyền cải cách hành chính, tiếp cận \(VN.number(t.peopleReached)) lượt người."
        )
        heading(1, "Kết quả theo nội dung tuyên truyền")
        let contents = t.byContent.filter { $0.activities > 0 }
        if contents.isEmpty { text("Trong kỳ chưa ghi nhận hoạt động theo các nội dung của Kế hoạch.") }
        for c in contents {
            // "0 lượt người được tiếp cận" reads oddly in a signed report: say nothing of people then.
            let people = c.participants > 0 ? ", \(VN.number(c.participants)) lượt người được tiếp cận" : ""
            let code = isInternal ? " (\(c.code))" : ""
            text("- \(c.title)\(code): \(VN.count(c.activities)) hoạt động\(people).")
        }
        if contents.reduce(0, { $0 + $1.activities }) > t.activities {
            text("(Một hoạt động có thể tuyên truyền nhiều nội dung, nên tổng số hoạt động theo nội dung lớn hơn tổng số hoạt động.)")
        }
        // Items with no activity are named once, in the assessment (III.2) and next period's tasks (IV).
        heading(2, "Kết quả theo hình thức tuyên truyền")
        let forms = t.byForm.filter { $0.activities > 0 }
        if forms.isEmpty { text("Trong kỳ chưa ghi nhận hoạt động.") }
        for f in forms {
            var s = "\(VN.count(f.quantity)) \(f.quantityUnit)"
            if f.participants > 0 { s += ", \(VN.number(f.participants)) \(f.participantsUnit ?? "lượt người được tiếp cận")" }
            let code = isInternal ? " (\(f.code))" : ""
            text("- \(f.title)\(code): \(s) (\(VN.count(f.activities)) hoạt động).")
        }
        heading(3, "Kết quả theo đơn vị")
        for u in report.units {
            let late =
                isInternal && u.figures.lateEntries > 0 ? ", trong đó \(VN.count(u.figures.lateEntries)) hoạt động nhập muộn của kỳ trước" : ""
            let people = u.figures.peopleReached > 0 ? ", tiếp cận \(VN.number(u.figures.peopleReached)) lượt người" : ""
            let name = isInternal ? "\(u.name) (\(u.unit))" : u.name
            text("- \(name): \(VN.count(u.figures.activities)) hoạt động\(late)\(people).")
        }
        heading(4, "Kết quả cung cấp, sử dụng dịch vụ công trực tuyến")
        let ps = report.publicServices
        if ps.tthcTotal == 0 && ps.dossiersTotal == 0 {
            text("Các phòng, đơn vị chưa có số liệu dịch vụ công trực tuyến trong kỳ.")
        } else {
            let targets = report.targets
            func target(_ i: Int) -> String {
                guard i < targets.count, targets[i].percent != nil else { return "" }
                return targets[i].met == true ? " (đạt chỉ tiêu 100% của Kế hoạch)" : " (chỉ tiêu của Kế hoạch: 100%)"
            }
            text(
                "- Số TTHC được cung cấp dịch vụ công trực tuyến toàn trình: \(VN.count(ps.tthcOnline))/\(VN.count(ps.tthcTotal)) TTHC đủ điều kiện, đạt \(VN.percent(ps.tthcOnlinePercent))\(target(0))."
            )
            text(
                "- Số hồ sơ tiếp nhận, xử lý trực tuyến: \(VN.number(ps.dossiersOnline))/\(VN.number(ps.dossiersTotal)) hồ sơ, đạt \(VN.percent(ps.dossiersOnlinePercent))\(target(1))."
            )
        }
        heading(5, "Kết quả thực hiện nhiệm vụ của các phòng, đơn vị")
        let office = Set(report.heading.officeDuties)
        for d in report.duties where !office.contains(d.code) {
            text("- \(dutyTitle(d)): \(evidenceText(d)).")
        }
        for p in report.assignedTasks {
            text("- \(isInternal ? "\(p.code) – " : "")\(p.title): \(progressText(p)).")
        }
        if isInternal {
            heading(6, "Tình hình gửi báo cáo của các đơn vị")
            let names = Dictionary(report.units.map { ($0.unit, $0.name) }, uniquingKeysWith: { a, _ in a })
            func list(_ codes: [String]) -> String { codes.isEmpty ? "không có" : codes.map { names[$0] ?? $0 }.joined(separator: "; ") }
            if let deadline = report.deadline {
                text(
                    "- Thời gian chốt số liệu theo \(report.reporting.basis): đến ngày \(ReportHeading.officialDay(report.to)); hạn gửi báo cáo của Ban: ngày \(ReportHeading.officialDay(deadline))."
                )
            }
            text("- Đơn vị đã gửi báo cáo: \(list(report.submitted)).")
            text("- Đơn vị chưa gửi báo cáo: \(list(report.notSubmitted)).")
            if t.lateEntries > 0 {
                text(
                    "- Có \(VN.count(t.lateEntries)) hoạt động nhập sau thời điểm đơn vị gửi báo cáo kỳ trước, được tổng hợp vào kỳ này (ghi chú «nhập muộn» tại Phụ lục II)."
                )
            }
            let changed = report.units.filter { $0.frozenMatches == false }.map(\.unit)
            if !changed.isEmpty {
                text(
                    "- Số liệu của \(list(changed)) đã thay đổi sau khi gửi báo cáo (hoạt động được sửa hoặc xóa sau thời điểm gửi); báo cáo này dùng số liệu tính lại từ dữ liệu gốc."
                )
            }
            if !report.text.fromDraft {
                text("- Văn phòng chưa lập dự thảo tổng hợp của kỳ (unit-client report consolidate): mục III–V là gợi ý tính từ số liệu.")
            }
        }
        text("(Chi tiết số liệu tại Phụ lục I và danh mục minh chứng tại Phụ lục II kèm theo.)")
        return out
    }

    func progressText(_ p: ProgressCount) -> String {
        var parts: [String] = []
        if p.done > 0 { parts.append("hoàn thành \(VN.count(p.done))") }
        if p.inProgress > 0 { parts.append("đang thực hiện \(VN.count(p.inProgress))") }
        if p.notStarted > 0 { parts.append("chưa thực hiện \(VN.count(p.notStarted))") }
        return "\(VN.count(p.total)) nhiệm vụ (" + parts.joined(separator: ", ") + ")"
    }

    // MARK: III

    func assessmentBlocks(sub: String) -> [BodyBlock] {
        var out: [BodyBlock] = []
        let t = report.text
        out.append(.heading("\(sub)1. Ưu điểm"))
        out += t.strengths.map { .paragraph("- \($0)") }
        out.append(.heading("\(sub)2. Tồn tại, hạn chế"))
        out += t.weaknesses.isEmpty ? [.paragraph("Không có.")] : t.weaknesses.map { .paragraph("- \($0)") }
        if !t.causes.isEmpty {
            out.append(.heading("\(sub)3. Nguyên nhân"))
            out += t.causes.map { .paragraph("- \($0)") }
        }
        if isInternal {
            out.append(.heading("\(sub)\(t.causes.isEmpty ? 3 : 4). Ý kiến của các phòng, đơn vị (nội bộ)"))
            out += narrative(\.results, empty: "Các đơn vị chưa gửi nội dung đánh giá kết quả.").map { .paragraph("- \($0)") }
            out += narrative(\.issues, empty: "").filter { !$0.isEmpty }.map { .paragraph("- \($0)") }
            out += narrative(\.proposals, empty: "").filter { !$0.isEmpty }.map { .paragraph("- \($0)") }
        }
        return out
    }

    /// One line per paragraph of each submitted unit's text, prefixed with the unit's name.
    func narrative(_ key: KeyPath<UnitSection, String?>, empty: String) -> [String] {
        var out: [String] = []
        for u in report.units where u.status == .submitted {
            for (i, p) in VN.paragraphs(u[keyPath: key]).enumerated() {
                out.append(i == 0 ? "\(u.name): \(p)" : p)
            }
        }
        return out.isEmpty ? [empty] : out
    }

    // MARK: Abbreviations

    /// The abbreviations the body uses, written out at their first use (Nghị định 30/2020).
    static let abbreviations: [(short: String, full: String)] = [
        ("CCHC", "cải cách hành chính"), ("TTHC", "thủ tục hành chính"), ("VBQPPL", "văn bản quy phạm pháp luật"),
        ("HĐND", "Hội đồng nhân dân"), ("UBND", "Ủy ban nhân dân"),
    ]

    /// At the first paragraph that uses an abbreviation or its full form: the full form followed
    /// by the abbreviation in brackets.
    static func spellOutAbbreviations(_ blocks: [BodyBlock]) -> [BodyBlock] {
        var out = blocks
        for (short, full) in abbreviations {
            for (i, b) in out.enumerated() {
                guard case .paragraph(let text) = b else { continue }
                let fullRange = text.range(of: full, options: .caseInsensitive)
                let shortRange = wordRange(of: short, in: text)
                if let f = fullRange, shortRange.map({ f.lowerBound < $0.lowerBound }) ?? true {
                    if text[f.upperBound...].hasPrefix(" (\(short))") { break }
                    out[i] = .paragraph(text.replacingCharacters(in: f, with: text[f] + " (\(short))"))
                    break
                }
                if let s = shortRange {
                    out[i] = .paragraph(text.replacingCharacters(in: s, with: "\(full) (\(short))"))
                    break
                }
            }
        }
        return out
    }

    /// The first occurrence of `word` not inside a longer word.
    static func wordRange(of word: String, in text: String) -> Range<String.Index>? {
        var from = text.startIndex
        while let r = text.range(of: word, range: from..<text.endIndex) {
            let before = r.lowerBound == text.startIndex ? nil : text[text.index(before: r.lowerBound)]
            let after = r.upperBound == text.endIndex ? nil : text[r.upperBound]
            // Not inside a word or a document symbol (`120/KH-UBND`).
            func joins(_ c: Character?) -> Bool { c.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "/" } ?? false }
            if !joins(before), !joins(after) { return r }
            from = r.upperBound
        }
        return nil
    }
}
