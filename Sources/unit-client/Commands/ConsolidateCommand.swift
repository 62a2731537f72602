import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

extension ReportCommand {
    /// `report consolidate`: the Office's consolidated draft of a period (docs/REPORTS.md).
    struct Consolidate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "consolidate", abstract: "Văn phòng lập, sửa dự thảo báo cáo tổng hợp của Ban cho một kỳ (mục I, III, IV, V).",
            discussion: """
                Lần đầu, dự thảo bắt đầu từ gợi ý tính từ số liệu: nội dung, hình thức chưa có hoạt động, chỉ tiêu chưa đạt, nhiệm vụ kỳ
                tới. Mỗi tùy chọn thay một phần (mỗi ý một dòng; chuỗi rỗng "" xóa phần đó); --edit mở trình soạn thảo ($VISUAL,
                $EDITOR) với cả dự thảo và ý kiến của các phòng, đơn vị làm tư liệu. Dự thảo đồng bộ như mọi bản ghi; hub lập báo cáo
                theo dự thảo (hub report).
                Ví dụ: unit-client report consolidate --period 2026-Q1
                       unit-client report consolidate --period 2026-Q1 --causes "Một số đơn vị chưa bố trí cán bộ phụ trách."
                       unit-client report consolidate --period 2026-Q1 --edit
                """)
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Kỳ báo cáo: 2026-Q1…Q4, 2026-H1, 2026-9M, 2026-Y.", transform: ReportPeriod.reading("period"))
        var period: ReportPeriod
        @Option(help: "Công tác chỉ đạo, điều hành (mục I), sau Kế hoạch và các văn bản chỉ đạo.")
        var direction: String?
        @Option(help: "Ưu điểm (mục III.1).")
        var strengths: String?
        @Option(help: "Tồn tại, hạn chế (mục III.2).")
        var weaknesses: String?
        @Option(help: "Nguyên nhân (mục III.3).")
        var causes: String?
        @Option(name: .customLong("next-tasks"), help: "Phương hướng, nhiệm vụ kỳ tới (mục IV).")
        var nextTasks: String?
        @Option(help: "Đề xuất, kiến nghị của Ban (mục V).")
        var proposals: String?
        @Flag(help: "Sửa dự thảo trong trình soạn thảo ($VISUAL hoặc $EDITOR).")
        var edit = false
        @Flag(help: "Bắt đầu lại từ gợi ý tính từ số liệu (thay mọi phần).")
        var reset = false

        func validate() throws {
            if case .adHoc = period {
                throw SyncError.invalid("period", period.description, "dự thảo tổng hợp lập cho một kỳ báo cáo (quý, 6 tháng, 9 tháng, năm).")
            }
        }

        func run() async throws {
            let s = try store.open()
            let plan = try s.planBook().plan(for: period)
            // Refused before anything is computed or an editor opened.
            let me = try s.requireOffice("lập dự thảo báo cáo tổng hợp của Ban")
            let report = try ReportSource(store: s).consolidatedReport(for: period, heading: ReportHeading(catalog: plan))
            let existing = try s.draft(period: period.description, unit: me.unit)
            var parts = DraftParts(
                direction: direction, strengths: strengths, weaknesses: weaknesses, causes: causes, nextTasks: nextTasks, proposals: proposals)
            if existing == nil || reset {
                // Start from the suggestion: every part not given takes it.
                let suggested = DraftParts(suggestion: report.suggestedText())
                parts.direction = parts.direction ?? suggested.direction ?? (reset ? "" : nil)
                parts.strengths = parts.strengths ?? suggested.strengths ?? (reset ? "" : nil)
                parts.weaknesses = parts.weaknesses ?? suggested.weaknesses ?? (reset ? "" : nil)
                parts.causes = parts.causes ?? suggested.causes ?? (reset ? "" : nil)
                parts.nextTasks = parts.nextTasks ?? suggested.nextTasks ?? (reset ? "" : nil)
                parts.proposals = parts.proposals ?? suggested.proposals ?? (reset ? "" : nil)
            }
            if edit {
                let current = DraftEditFile.merged(existing: existing, parts: parts)
                let text = DraftEditFile.render(period: period, parts: current, report: report)
                parts = try DraftEditFile.parse(try Self.runEditor(text))
            }
            let written = try s.writeDraft(period: period, parts: parts)
            guard let draft = try s.draft(period: period.description, unit: me.unit) else {
                throw SyncError(.database, "Dự thảo \(period) không đọc lại được sau khi ghi.", field: "period", value: period.description)
            }
            let conflicts = try s.conflicts().filter { $0.record == draft.id }
            if output.json { return try printJSON(ConsolidateView(draft: draft, opsWritten: written.count, conflicts: conflicts)) }
            print(
                written.isEmpty
                    ? "Dự thảo tổng hợp \(draft.id) (\(period.vietnameseName)) không thay đổi."
                    : "Đã lưu dự thảo tổng hợp \(draft.id) (\(period.vietnameseName)): \(written.count) thay đổi.")
            let labels: [(String, String?)] = [
                ("Chỉ đạo, điều hành", draft.direction), ("Ưu điểm", draft.strengths), ("Tồn tại, hạn chế", draft.weaknesses),
                ("Nguyên nhân", draft.causes), ("Nhiệm vụ kỳ tới", draft.nextTasks), ("Đề xuất, kiến nghị", draft.proposals),
            ]
            for (label, text) in labels {
                let lines = (text ?? "").split(separator: "\n").count
                print("  \(label): \(lines == 0 ? "chưa có" : "\(lines) ý")")
            }
            if !conflicts.isEmpty {
                print("Cảnh báo: \(conflicts.count) phần của dự thảo bị sửa đồng thời ở nơi khác; xem «unit-client conflicts» rồi giải quyết.")
            }
            print("Đồng bộ (unit-client sync) để hub lập báo cáo theo dự thảo: hub report --period \(period).")
        }

        /// Opens `text` in the user's editor and returns what was saved.
        static func runEditor(_ text: String) throws -> String {
            let env = ProcessInfo.processInfo.environment
            guard let editor = [env["VISUAL"], env["EDITOR"]].compactMap({ $0 }).first(where: { !$0.isEmpty }) else {
                throw SyncError(
                    .invalidInput, "Không có trình soạn thảo: đặt biến VISUAL hoặc EDITOR (ví dụ EDITOR=nano), hoặc dùng các tùy chọn --strengths….",
                    field: "edit")
            }
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("du-thao-\(UUID().uuidString).md")
            try Data(text.utf8).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "\(editor) \"$1\"", "editor", file.path]
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else {
                throw SyncError(
                    .invalidInput, "Trình soạn thảo «\(editor)» kết thúc với mã \(p.terminationStatus); dự thảo không thay đổi.", field: "edit")
            }
            return String(decoding: try Data(contentsOf: file), as: UTF8.self)
        }
    }
}

/// `report consolidate --json`.
struct ConsolidateView: Encodable {
    var draft: DraftRow
    var opsWritten: Int
    var conflicts: [ConflictRow]

    enum CodingKeys: String, CodingKey {
        case draft, conflicts
        case opsWritten = "ops_written"
    }
}

/// The text file `report consolidate --edit` opens: one `## ` heading per part, the units' own
/// sentences as `#` comment lines (material, not saved).
enum DraftEditFile {
    static var headings: [(String, WritableKeyPath<DraftParts, String?>)] {
        [
            ("Chỉ đạo, điều hành", \.direction), ("Ưu điểm", \.strengths), ("Tồn tại, hạn chế", \.weaknesses), ("Nguyên nhân", \.causes),
            ("Nhiệm vụ kỳ tới", \.nextTasks), ("Đề xuất, kiến nghị", \.proposals),
        ]
    }

    /// The stored draft with the parts given on top.
    static func merged(existing: DraftRow?, parts: DraftParts) -> DraftParts {
        DraftParts(
            direction: parts.direction ?? existing?.direction, strengths: parts.strengths ?? existing?.strengths,
            weaknesses: parts.weaknesses ?? existing?.weaknesses, causes: parts.causes ?? existing?.causes,
            nextTasks: parts.nextTasks ?? existing?.nextTasks, proposals: parts.proposals ?? existing?.proposals)
    }

    static func render(period: ReportPeriod, parts: DraftParts, report: ConsolidatedReport) -> String {
        var o = [
            "# Dự thảo báo cáo tổng hợp \(period.vietnameseName). Sửa nội dung dưới mỗi tiêu đề «## …», mỗi ý một dòng.",
            "# Dòng bắt đầu bằng một dấu # là tư liệu, không được lưu.",
        ]
        for u in report.units where u.status == .submitted {
            for (label, text) in [("kết quả", u.results), ("tồn tại", u.issues), ("đề xuất", u.proposals)] {
                if let text, !text.isEmpty { o.append("# \(u.name) — \(label): \(text.replacingOccurrences(of: "\n", with: " "))") }
            }
        }
        for (heading, key) in headings {
            o.append("")
            o.append("## \(heading)")
            if let t = parts[keyPath: key], !t.isEmpty { o.append(t) }
        }
        return o.joined(separator: "\n") + "\n"
    }

    /// Every part from the edited file (a part left empty is cleared); a heading not among the
    /// parts is refused, naming it.
    static func parse(_ text: String) throws -> DraftParts {
        var parts = DraftParts()
        var current: WritableKeyPath<DraftParts, String?>?
        var lines: [String] = []
        func flush() {
            if let current { parts[keyPath: current] = lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines) }
            lines = []
        }
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = VietnameseText.nfc(String(raw))
            if line.hasPrefix("## ") {
                flush()
                let name = line.dropFirst(3).trimmingCharacters(in: .whitespaces)
                guard let key = headings.first(where: { $0.0 == name })?.1 else {
                    throw SyncError.invalid(
                        "edit", name, "tiêu đề không có trong dự thảo (\(headings.map(\.0).joined(separator: "; "))); dự thảo không thay đổi.")
                }
                current = key
            } else if line.hasPrefix("#") {
                continue
            } else if current != nil {
                lines.append(line)
            }
        }
        flush()
        for (heading, key) in headings where parts[keyPath: key] == nil {
            throw SyncError.invalid("edit", heading, "thiếu tiêu đề «## \(heading)» trong tệp đã sửa; dự thảo không thay đổi.")
        }
        return parts
    }
}
