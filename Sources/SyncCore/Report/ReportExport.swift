import Foundation

/// The export formats of the consolidated report.
public enum ReportFormat: String, Sendable, CaseIterable {
    /// WordprocessingML in the Nghị định 30/2020 layout, for signing and sending.
    case docx
    /// Markdown, for reading in a terminal.
    case md
    /// UTF-8 CSV with BOM and CRLF (RFC 4180), opens in Excel with Vietnamese text.
    case csv
    /// Stable JSON (sorted keys) for other systems.
    case json

    public static func parse(_ raw: String) throws -> ReportFormat {
        let s = raw.lowercased().trimmingCharacters(in: .whitespaces)
        if s == "markdown" { return .md }
        guard let f = ReportFormat(rawValue: s) else {
            throw SyncError.invalid("format", raw, "chỉ nhận docx, md, csv hoặc json.")
        }
        return f
    }
}

extension ConsolidatedReport {
    /// The report in `format`, as the bytes of the file.
    public func export(_ format: ReportFormat) throws -> Data {
        switch format {
        case .json: return try jsonData()
        case .csv: return csvData()
        case .md: return Data(markdown().utf8)
        case .docx: return try DocxReport(report: self).data()
        }
    }

    /// Compact JSON with sorted keys: equal reports give equal bytes. The evidence list (most of a
    /// year's file) is written by `EvidenceJSON`, byte for byte what `JSONEncoder` would write, and
    /// spliced in; the rest goes through `JSONEncoder`.
    public func jsonData() throws -> Data {
        let e = JSONEncoder.canonical
        var rest = self
        rest.evidence = []
        let head = try e.encode(rest)
        // `evidence` sorts first among the keys, so the encoding starts with it.
        let marker = Data("{\"evidence\":[]".utf8)
        guard head.starts(with: marker) else {
            var d = try e.encode(self)
            d.append(0x0A)
            return d
        }
        var out = "{\"evidence\":["
        out.reserveCapacity(400 * evidence.count + 64)
        for (i, item) in evidence.enumerated() {
            if i > 0 { out += "," }
            EvidenceJSON.append(item, to: &out)
        }
        out += "]"
        var d = Data(out.utf8)
        d.append(head[head.index(head.startIndex, offsetBy: marker.count)...])
        d.append(0x0A)
        return d
    }
}

/// Vietnamese number and label formatting shared by the human-readable exports.
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

    /// `2026-03-05` → `05/03/2026`, without splitting strings: it runs once per evidence row.
    static func day(_ date: String) -> String {
        var copy = date
        let fast: String? = copy.withUTF8 { b in
            guard b.count == 10, b[4] == 0x2D, b[7] == 0x2D else { return nil }
            return String(unsafeUninitializedCapacity: 10) { out in
                for (i, k) in [8, 9, -1, 5, 6, -1, 0, 1, 2, 3].enumerated() { out[i] = k < 0 ? 0x2F : b[k] }
                return 10
            }
        }
        return fast ?? CalendarDay.vietnamese(date)
    }

    /// `85.71` → `85,71%`; nil → `—`.
    static func percent(_ p: Double?) -> String {
        guard let p else { return "—" }
        var s = String(format: "%.2f", p)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s.replacingOccurrences(of: ".", with: ",") + "%"
    }

    static func status(_ s: String) -> String { statusLabel(s) }

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

// MARK: CSV

extension ConsolidatedReport {
    static let csvHeader = [
        "Bảng", "Mã", "Tên", "Đơn vị", "Hình thức", "Ngày", "Số hoạt động", "Số lượng", "Đơn vị tính", "Số người", "Tỷ lệ (%)", "Đường dẫn",
        "Ghi chú",
    ]

    /// One rectangular table (column `Bảng` names the section), RFC 4180 quoting, CRLF, UTF-8 BOM.
    public func csvData() -> Data {
        var out = "\u{FEFF}"
        out.reserveCapacity(256 * (evidence.count + 64))
        func line(_ fields: [String]) {
            for (i, f) in fields.enumerated() {
                if i > 0 { out += "," }
                out += Self.csvField(f)
            }
            out += "\r\n"
        }
        func row(
            _ table: String, _ code: String, _ name: String, unit: String = "", form: String = "", date: String = "", activities: String = "",
            quantity: String = "", measure: String = "", people: String = "", percent: String = "", url: String = "", note: String = ""
        ) {
            line([table, code, name, unit, form, date, activities, quantity, measure, people, percent, url, note])
        }
        func pct(_ p: Double?) -> String { p.map { String(format: "%.2f", $0) } ?? "" }
        line(Self.csvHeader)
        row(
            "Tổng hợp", "TONG", "Tổng số hoạt động (\(period), \(from) – \(to))", activities: String(totals.activities),
            people: String(totals.peopleReached), note: "nhập muộn: \(totals.lateEntries)")
        for c in totals.byContent {
            row("Theo nội dung", c.code, c.title, activities: String(c.activities), people: String(c.participants))
        }
        for f in totals.byForm {
            row(
                "Theo hình thức", f.code, f.title, form: f.code, activities: String(f.activities), quantity: String(f.quantity),
                measure: f.quantityUnit, people: String(f.participants))
        }
        for u in units {
            row(
                "Theo đơn vị", u.unit, u.name, unit: u.unit, activities: String(u.figures.activities), people: String(u.figures.peopleReached),
                note: "báo cáo kỳ: \(VN.status(u.status)); nhập muộn: \(u.figures.lateEntries)")
        }
        for u in units {
            for f in u.figures.byForm where f.activities > 0 {
                row(
                    "Theo đơn vị và hình thức", f.code, f.title, unit: u.unit, form: f.code, activities: String(f.activities),
                    quantity: String(f.quantity), measure: f.quantityUnit, people: String(f.participants))
            }
        }
        let ps = publicServices
        row("Dịch vụ công trực tuyến", "tthc_total", "Số TTHC đủ điều kiện", quantity: String(ps.tthcTotal), measure: "thủ tục")
        row(
            "Dịch vụ công trực tuyến", "tthc_online", "Số TTHC cung cấp trực tuyến toàn trình", quantity: String(ps.tthcOnline),
            measure: "thủ tục", percent: pct(ps.tthcOnlinePercent))
        row("Dịch vụ công trực tuyến", "dossiers_total", "Tổng số hồ sơ TTHC", quantity: String(ps.dossiersTotal), measure: "hồ sơ")
        row(
            "Dịch vụ công trực tuyến", "dossiers_online", "Số hồ sơ tiếp nhận, xử lý trực tuyến", quantity: String(ps.dossiersOnline),
            measure: "hồ sơ", percent: pct(ps.dossiersOnlinePercent))
        for p in tasksByDuty {
            row(
                "Tiến độ nhiệm vụ", p.code, p.title, quantity: String(p.total), measure: "nhiệm vụ",
                note: "hoàn thành \(p.done); đang thực hiện \(p.inProgress); chưa thực hiện \(p.notStarted)")
        }
        for p in tasksByUnit {
            row(
                "Tiến độ nhiệm vụ theo đơn vị", p.code, p.title, unit: p.code, quantity: String(p.total), measure: "nhiệm vụ",
                note: "hoàn thành \(p.done); đang thực hiện \(p.inProgress); chưa thực hiện \(p.notStarted)")
        }
        for u in units {
            row("Gửi báo cáo", u.unit, u.name, unit: u.unit, date: u.submittedAt ?? "", note: VN.status(u.status))
        }
        // The evidence rows are most of a year's file: written field by field without temporaries.
        for e in evidence {
            out += "Minh chứng,"
            out += Self.csvField(e.id)
            out += ","
            out += Self.csvField(e.title)
            out += ","
            out += Self.csvField(e.unit)
            out += ","
            out += Self.csvField(e.form)
            out += ","
            out += e.date
            out += ",1,"
            if let q = e.quantity { out += String(q) }
            out += ",,"
            if let p = e.participants { out += String(p) }
            out += ",,"
            if let u = e.url { out += Self.csvField(u) }
            out += ","
            if let l = e.lateFrom { out += "nhập muộn (kỳ \(l))" }
            out += "\r\n"
        }
        return Data(out.utf8)
    }

    /// RFC 4180: quote a field holding a comma, quote, CR or LF, doubling inner quotes. A field
    /// that Excel would run as a formula gets a leading apostrophe (CSV injection).
    static func csvField(_ s: String) -> String {
        var special = false
        var formula = false
        for (i, u) in s.utf8.enumerated() {
            if i == 0 && (u == 0x3D || u == 0x2B || u == 0x2D || u == 0x40) { formula = true }
            if u == 0x2C || u == 0x22 || u == 0x0D || u == 0x0A {
                special = true
                break
            }
        }
        if !special && !formula { return s }
        var v = s
        if formula && Double(v) == nil { v = "'" + v }
        if special {
            return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return v
    }
}

// MARK: Markdown

extension ConsolidatedReport {
    /// The report for reading in a terminal: the same sections as the document, tables inline.
    public func markdown() -> String {
        var o: [String] = []
        func cell(_ s: String) -> String {
            guard s.utf8.contains(where: { $0 == 0x7C || $0 == 0x0A || $0 == 0x0D }) else { return s }
            return s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        }
        func table(_ head: [String], _ rows: [[String]]) {
            o.append("| " + head.map(cell).joined(separator: " | ") + " |")
            o.append("|" + head.map { _ in "---" }.joined(separator: "|") + "|")
            for r in rows { o.append("| " + r.map(cell).joined(separator: " | ") + " |") }
            o.append("")
        }
        o.append("# BÁO CÁO")
        o.append("")
        o.append("**\(subject)**")
        o.append("")
        o.append("\(heading.parent) — \(heading.agency)  ")
        o.append("\(heading.numberLine)  ")
        o.append("*\(heading.placeAndDate(year: year))*")
        o.append("")
        o.append("Kỳ báo cáo: \(period) (\(CalendarDay.vietnamese(from)) – \(CalendarDay.vietnamese(to))).")
        o.append("")
        o.append("## I. Công tác chỉ đạo, điều hành")
        o.append("")
        for line in BodyText(report: self).directionLines { o.append("- \(line)") }
        o.append("")
        o.append("## II. Kết quả thực hiện")
        o.append("")
        o.append(
            "Tổng số hoạt động: **\(VN.number(totals.activities))**; số người được tiếp cận: **\(VN.number(totals.peopleReached))**; nhập muộn: \(totals.lateEntries)."
        )
        o.append("")
        o.append("### 1. Theo nội dung tuyên truyền")
        o.append("")
        table(
            ["Mã", "Nội dung", "Số hoạt động", "Số người"],
            totals.byContent.map { [$0.code, $0.title, VN.number($0.activities), VN.number($0.participants)] })
        o.append("### 2. Theo hình thức tuyên truyền")
        o.append("")
        table(
            ["Mã", "Hình thức", "Số hoạt động", "Số lượng", "Đơn vị tính", "Số người"],
            totals.byForm.map { [$0.code, $0.title, VN.number($0.activities), VN.number($0.quantity), $0.quantityUnit, VN.number($0.participants)] })
        o.append("### 3. Theo đơn vị")
        o.append("")
        table(
            ["Mã", "Đơn vị", "Số hoạt động", "Số người", "Nhập muộn", "Báo cáo kỳ"],
            units.map {
                [
                    $0.unit, $0.name, VN.number($0.figures.activities), VN.number($0.figures.peopleReached), String($0.figures.lateEntries),
                    VN.status($0.status),
                ]
            })
        o.append("### 4. Dịch vụ công trực tuyến")
        o.append("")
        let ps = publicServices
        table(
            ["Chỉ tiêu", "Trực tuyến", "Tổng số", "Tỷ lệ"],
            [
                ["TTHC cung cấp trực tuyến toàn trình", VN.number(ps.tthcOnline), VN.number(ps.tthcTotal), VN.percent(ps.tthcOnlinePercent)],
                [
                    "Hồ sơ tiếp nhận, xử lý trực tuyến", VN.number(ps.dossiersOnline), VN.number(ps.dossiersTotal),
                    VN.percent(ps.dossiersOnlinePercent),
                ],
            ])
        o.append("### 5. Tiến độ thực hiện nhiệm vụ")
        o.append("")
        table(
            ["Mã", "Nhiệm vụ", "Tổng", "Hoàn thành", "Đang thực hiện", "Chưa thực hiện"],
            tasksByDuty.map { [$0.code, $0.title, String($0.total), String($0.done), String($0.inProgress), String($0.notStarted)] })
        table(
            ["Đơn vị", "Tên", "Tổng", "Hoàn thành", "Đang thực hiện", "Chưa thực hiện"],
            tasksByUnit.map { [$0.code, $0.title, String($0.total), String($0.done), String($0.inProgress), String($0.notStarted)] })
        o.append("### 6. Tình hình gửi báo cáo của các đơn vị")
        o.append("")
        o.append("- Đã gửi: \(submitted.isEmpty ? "không có" : submitted.joined(separator: ", "))")
        o.append("- Chưa gửi: \(notSubmitted.isEmpty ? "không có" : notSubmitted.joined(separator: ", "))")
        let changed = units.filter { $0.frozenMatches == false }.map(\.unit)
        if !changed.isEmpty { o.append("- Số liệu đã thay đổi sau khi gửi (tính lại từ dữ liệu gốc): \(changed.joined(separator: ", "))") }
        o.append("")
        o.append("## III. Đánh giá")
        o.append("")
        let body = BodyText(report: self)
        o.append("### 1. Kết quả đạt được")
        o.append("")
        for l in body.narrative(\.results, empty: "Các đơn vị chưa gửi nội dung đánh giá kết quả.") { o.append("- \(l)") }
        o.append("")
        o.append("### 2. Tồn tại, hạn chế")
        o.append("")
        for l in body.narrative(\.issues, empty: "Các đơn vị chưa nêu tồn tại, hạn chế.") { o.append("- \(l)") }
        o.append("")
        o.append("## IV. Phương hướng, nhiệm vụ kỳ tới")
        o.append("")
        for l in body.nextLines { o.append("- \(l)") }
        o.append("")
        o.append("## V. Đề xuất, kiến nghị")
        o.append("")
        for l in body.narrative(\.proposals, empty: "Không có đề xuất, kiến nghị.") { o.append("- \(l)") }
        o.append("")
        o.append(body.closingLine)
        o.append("")
        o.append("**Nơi nhận:**")
        o.append("")
        for r in heading.recipients { o.append("- \(r)") }
        o.append("")
        o.append("**\(heading.signer.authority)**  ")
        o.append("**\(heading.signer.title)**  ")
        o.append("**\(heading.signer.name)**")
        o.append("")
        o.append("## Phụ lục. Danh mục minh chứng")
        o.append("")
        table(
            ["STT", "Ngày", "Đơn vị", "Hình thức", "Tiêu đề", "Đường dẫn", "Ghi chú"],
            evidence.enumerated().map { i, e in
                [String(i + 1), VN.day(e.date), e.unit, e.form, e.title, e.url ?? "", e.lateFrom.map { "nhập muộn (\($0))" } ?? ""]
            })
        return o.joined(separator: "\n")
    }
}

/// The prose of the report body, shared by the Markdown and DOCX exports.
struct BodyText {
    let report: ConsolidatedReport

    /// The last sentence of the body, ending with "./." as Nghị định 30 asks.
    var closingLine: String {
        let subject = report.subject.prefix(1).lowercased() + report.subject.dropFirst()
        let agency = report.heading.agency
        let known = "Ban Quản lý Khu kinh tế cửa khẩu Đồng Đăng - Lạng Sơn"
        return "Trên đây là báo cáo \(subject) của \(agency.uppercased() == known.uppercased() ? known : agency)./."
    }

    /// Section I: the plan and the Office's duties TN01–TN04.
    var directionLines: [String] {
        var l = [
            "Thực hiện \(report.planTitle), Ban Quản lý đã triển khai công tác thông tin, tuyên truyền cải cách hành chính đến các phòng, đơn vị trực thuộc."
        ]
        for p in report.tasksByDuty where p.total > 0 && ["TN01", "TN02", "TN03", "TN04"].contains(p.code) {
            l.append("\(p.title): \(progressText(p)).")
        }
        return l
    }

    func progressText(_ p: ProgressCount) -> String {
        var parts: [String] = []
        if p.done > 0 { parts.append("hoàn thành \(p.done)") }
        if p.inProgress > 0 { parts.append("đang thực hiện \(p.inProgress)") }
        if p.notStarted > 0 { parts.append("chưa thực hiện \(p.notStarted)") }
        return "\(p.total) nhiệm vụ (" + parts.joined(separator: ", ") + ")"
    }

    /// One line per paragraph of each submitted unit's text, prefixed with the unit's name.
    func narrative(_ key: KeyPath<UnitSection, String?>, empty: String) -> [String] {
        var out: [String] = []
        for u in report.units where u.status == "submitted" {
            for (i, p) in VN.paragraphs(u[keyPath: key]).enumerated() {
                out.append(i == 0 ? "\(u.name): \(p)" : p)
            }
        }
        return out.isEmpty ? [empty] : out
    }

    /// Section IV: what remains to be done, from the tasks not yet finished.
    var nextLines: [String] {
        var out = ["Tiếp tục thực hiện \(report.planTitle)."]
        let names = Dictionary(report.units.map { ($0.unit, $0.name) }, uniquingKeysWith: { a, _ in a })
        for t in report.openTasks.prefix(30) {
            out.append("\(names[t.unit] ?? t.unit): \(t.title) (\(t.status.label)).")
        }
        if report.openTasks.count > 30 { out.append("Và \(report.openTasks.count - 30) nhiệm vụ khác chưa hoàn thành.") }
        return out
    }
}

/// Writes an `EvidenceItem` exactly as `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]`
/// does (nil fields omitted, same string escapes), several times faster for long lists.
enum EvidenceJSON {
    static func append(_ e: EvidenceItem, to out: inout String) {
        out += "{\"content\":["
        for (i, c) in e.content.enumerated() {
            if i > 0 { out += "," }
            string(c, to: &out)
        }
        out += "],\"date\":"
        string(e.date, to: &out)
        out += ",\"form\":"
        string(e.form, to: &out)
        out += ",\"id\":"
        string(e.id, to: &out)
        if let l = e.lateFrom {
            out += ",\"lateFrom\":"
            string(l, to: &out)
        }
        if let p = e.participants {
            out += ",\"participants\":"
            out += String(p)
        }
        if let q = e.quantity {
            out += ",\"quantity\":"
            out += String(q)
        }
        out += ",\"title\":"
        string(e.title, to: &out)
        out += ",\"unit\":"
        string(e.unit, to: &out)
        if let u = e.url {
            out += ",\"url\":"
            string(u, to: &out)
        }
        out += "}"
    }

    static func string(_ s: String, to out: inout String) {
        out += "\""
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            out += s
        } else {
            for u in s.unicodeScalars {
                switch u {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "\u{08}": out += "\\b"
                case "\u{0C}": out += "\\f"
                default:
                    if u.value < 0x20 {
                        out += "\\u" + String(format: "%04x", u.value)
                    } else {
                        out.unicodeScalars.append(u)
                    }
                }
            }
        }
        out += "\""
    }
}

/// The Vietnamese label of a task or report status code, as every output shows it (CLI lists,
/// reports); an unknown code is shown as it is.
public func statusLabel(_ code: String) -> String {
    switch code {
    case "submitted": return "đã gửi"
    case "draft": return "bản nháp, chưa gửi"
    case "missing": return "chưa gửi"
    case "chua_thuc_hien": return "chưa thực hiện"
    case "dang_thuc_hien": return "đang thực hiện"
    case "hoan_thanh": return "hoàn thành"
    default: return code
    }
}
