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

/// The prose of the report body, shared by the Markdown and DOCX exports.
struct BodyText {
    let report: ConsolidatedReport

    /// The last sentence of the body, ending with "./." as Nghị định 30 asks.
    var closingLine: String {
        let subject = report.subject.prefix(1).lowercased() + report.subject.dropFirst()
        return "Trên đây là báo cáo \(subject) của \(report.heading.agencyName)./."
    }

    /// Section I: the plan and the progress of the duties the plan gives the Office (TN01–TN04 in
    /// the 2026 catalog).
    var directionLines: [String] {
        var l = [
            "Thực hiện \(report.planTitle), Ban Quản lý đã triển khai công tác thông tin, tuyên truyền cải cách hành chính đến các phòng, đơn vị trực thuộc."
        ]
        for p in report.tasksByDuty where p.total > 0 && report.heading.officeDuties.contains(p.code) {
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
        for u in report.units where u.status == .submitted {
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
