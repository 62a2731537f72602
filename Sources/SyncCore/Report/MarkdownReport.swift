import Foundation

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
                    $0.status.label,
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
