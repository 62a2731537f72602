import Foundation

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
                note: "báo cáo kỳ: \(u.status.label); nhập muộn: \(u.figures.lateEntries)")
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
            row("Gửi báo cáo", u.unit, u.name, unit: u.unit, date: u.submittedAt ?? "", note: u.status.label)
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
