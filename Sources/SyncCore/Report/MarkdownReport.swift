import Foundation

extension ConsolidatedReport {
    /// The report for reading in a terminal: the same body as the document (sections I–V, or the
    /// section to paste), its figures and evidence as tables.
    public func markdown(audience: ReportAudience = .external, part: ReportPart = .full) -> String {
        var o: [String] = []
        let inside = audience == .internal
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
        let body = BodyText(report: self, audience: audience)
        if part == .section {
            o.append("# CÔNG TÁC THÔNG TIN, TUYÊN TRUYỀN CẢI CÁCH HÀNH CHÍNH")
        } else {
            o.append("# BÁO CÁO")
            o.append("")
            o.append("**\(subject)**")
            o.append("")
            o.append("\(heading.parent) — \(heading.agency)  ")
            o.append("\(heading.numberLine)  ")
            o.append("*\(heading.placeAndDate(year: year))*")
        }
        o.append("")
        o.append("*\(ReportHeading.dataWindow(from: from, to: to))*")
        o.append("")
        for b in body.blocks(part: part) {
            switch b {
            case .heading(let t):
                o.append(t.first?.isNumber == true ? "### \(t)" : "## \(t)")
                o.append("")
            case .paragraph(let t):
                o.append(t)
                o.append("")
            }
        }
        if part == .full {
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
        }
        o.append("## Phụ lục I. Số liệu kết quả")
        o.append("")
        o.append("### 1. Theo nội dung tuyên truyền")
        o.append("")
        table(
            ["STT", "Nội dung", "Số hoạt động", "Số lượt người"],
            totals.byContent.enumerated().map { i, c in
                [String(i + 1), inside ? "\(c.code). \(c.title)" : c.title, VN.number(c.activities), VN.number(c.participants)]
            })
        o.append("### 2. Theo hình thức tuyên truyền")
        o.append("")
        table(
            ["STT", "Hình thức", "Số hoạt động", "Số lượng", "Đơn vị tính", "Số lượt người"],
            totals.byForm.enumerated().map { i, f in
                [
                    String(i + 1), inside ? "\(f.code). \(f.title)" : f.title, VN.number(f.activities), VN.number(f.quantity), f.quantityUnit,
                    VN.number(f.participants),
                ]
            } + [["", "Tổng số hoạt động", VN.number(totals.activities), "", "", VN.number(totals.peopleReached)]])
        o.append("### 3. Theo đơn vị")
        o.append("")
        if inside {
            table(
                ["Mã", "Đơn vị", "Số hoạt động", "Số lượt người", "Nhập muộn", "Báo cáo kỳ"],
                units.map {
                    [
                        $0.unit, $0.name, VN.number($0.figures.activities), VN.number($0.figures.peopleReached), String($0.figures.lateEntries),
                        $0.status.label,
                    ]
                })
        } else {
            table(
                ["STT", "Đơn vị", "Số hoạt động", "Số lượt người"],
                units.enumerated().map { i, u in [String(i + 1), u.name, VN.number(u.figures.activities), VN.number(u.figures.peopleReached)] })
        }
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
        o.append("### 5. Kết quả thực hiện nhiệm vụ theo Kế hoạch")
        o.append("")
        let names = Dictionary(units.map { ($0.unit, $0.name) }, uniquingKeysWith: { a, _ in a })
        table(
            ["STT", "Nhiệm vụ", "Đơn vị thực hiện", "Kết quả trong kỳ"],
            duties.enumerated().map { i, d in
                [String(i + 1), body.dutyTitle(d), d.units.map { names[$0] ?? $0 }.joined(separator: "; "), body.evidenceText(d)]
            })
        if inside, !assignedTasks.isEmpty {
            o.append("### 6. Tiến độ nhiệm vụ Văn phòng giao")
            o.append("")
            table(
                ["Mã", "Nhiệm vụ", "Tổng", "Hoàn thành", "Đang thực hiện", "Chưa thực hiện"],
                assignedTasks.map { [$0.code, $0.title, String($0.total), String($0.done), String($0.inProgress), String($0.notStarted)] })
        }
        if part == .full {
            o.append("## Phụ lục II. Danh mục minh chứng")
            o.append("")
            let forms = Dictionary(totals.byForm.map { ($0.code, $0.title) }, uniquingKeysWith: { a, _ in a })
            table(
                inside
                    ? ["STT", "Ngày", "Đơn vị", "Hình thức", "Tiêu đề", "Đường dẫn", "Ghi chú"]
                    : ["STT", "Ngày", "Đơn vị", "Hình thức", "Tiêu đề", "Đường dẫn"],
                evidence.enumerated().map { i, e in
                    inside
                        ? [String(i + 1), VN.day(e.date), e.unit, e.form, e.title, e.url ?? "", e.lateFrom.map { "nhập muộn (\($0))" } ?? ""]
                        : [String(i + 1), VN.day(e.date), names[e.unit] ?? e.unit, forms[e.form] ?? e.form, e.title, e.url ?? ""]
                })
        }
        return o.joined(separator: "\n")
    }
}
