import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

struct HubReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Lập báo cáo tổng hợp của Ban từ số liệu gốc của mọi đơn vị (DOCX theo Nghị định 30/2020, MD, CSV, JSON).",
        discussion: """
            Ví dụ: hub report --period 2026-Q1 --format docx --out bao-cao-quy-1.docx --date 2026-03-16
                   hub report --period 2026-Q1 --audience internal --format md --out noi-bo-quy-1.md
                   hub report --period 2026-Q1 --part section --out phan-tuyen-truyen-quy-1.docx
                   hub report --from 2026-03-01 --to 2026-03-31 --format md --out thang-3.md
            Bản gửi UBND tỉnh, Sở Nội vụ (--audience external, mặc định) gọi đơn vị bằng tên, không có mã nội bộ, tình hình
            gửi báo cáo hay ghi chú nhập muộn; --audience internal giữ cả cho Văn phòng. Mục I, III–V lấy từ dự thảo tổng hợp
            của Văn phòng (unit-client report consolidate); chưa có dự thảo thì là gợi ý tính từ số liệu.
            Mọi tổng số được tính lại từ các hoạt động gốc (các kỳ chồng lên nhau); hoạt động nhập sau khi đơn vị đã gửi báo cáo
            kỳ đó được tính vào kỳ tiếp theo, ghi chú «nhập muộn».
            """)
    @OptionGroup var store: HubStoreOptions
    @Option(
        help: "Kỳ báo cáo: 2026-Q1…Q4, 2026-H1, 2026-9M, 2026-Y; hoặc dùng --from/--to cho báo cáo đột xuất.",
        transform: ReportPeriod.reading("period"))
    var period: ReportPeriod?
    @Option(help: "Ngày đầu (YYYY-MM-DD) của báo cáo đột xuất.")
    var from: String?
    @Option(help: "Ngày cuối (YYYY-MM-DD) của báo cáo đột xuất.")
    var to: String?
    @Option(help: "Định dạng: docx, md, csv, json (mặc định docx).", transform: ReportFormat.reading("format"))
    var format: ReportFormat = .docx
    @Option(help: "Tệp kết quả.")
    var out: String
    @Option(
        help: "Bản gửi: external (UBND tỉnh, Sở Nội vụ; mặc định) hoặc internal (nội bộ Văn phòng, có mã và tình hình gửi báo cáo).",
        transform: ReportAudience.reading("audience"))
    var audience: ReportAudience = .external
    @Option(
        help: "Phần: full (cả báo cáo, mặc định) hoặc section (phần tuyên truyền và phụ lục số liệu để lồng ghép vào báo cáo CCHC định kỳ).",
        transform: ReportPart.reading("part"))
    var part: ReportPart = .full
    @Option(help: "Số văn bản do văn thư cấp khi phát hành; mặc định để trống («Số:      /BC-…»).")
    var number: String?
    @Option(help: "Ngày ký (YYYY-MM-DD); mặc định hôm nay.")
    var date: String?
    @Option(help: "Họ tên người ký (mặc định theo danh mục).")
    var signer: String?

    func resolvePeriod() throws -> ReportPeriod {
        switch (period, from, to) {
        case (let p?, nil, nil): return p
        case (nil, let f?, let t?):
            let a = try CalendarDay.parse(f, field: "from")
            let b = try CalendarDay.parse(t, field: "to")
            guard a <= b else { throw SyncError.invalid("to", t, "ngày cuối phải không trước ngày đầu (\(f)).") }
            return .adHoc(from: a, to: b)
        case (nil, nil, nil):
            throw SyncError(.invalidInput, "Thiếu «--period»: cần --period (ví dụ 2026-Q1) hoặc cả --from và --to.", field: "period")
        case (_?, _, _):
            throw SyncError.invalid("period", period?.description ?? "", "dùng --period hoặc --from/--to, không dùng cả hai.")
        default:
            let missing = from == nil ? "from" : "to"
            throw SyncError(.invalidInput, "Thiếu «--\(missing)»: báo cáo đột xuất cần cả --from và --to.", field: missing)
        }
    }

    func run() async throws {
        let p = try resolvePeriod()
        let fmt = format
        if let number {
            let n = number.trimmingCharacters(in: .whitespaces)
            guard !n.isEmpty, n.count <= 10, n.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                throw SyncError.invalid("number", number, "số văn bản chỉ gồm chữ số, chữ cái, dấu gạch (ví dụ 05).")
            }
        }
        let day = try CalendarDay.parse(date ?? CalendarDay.today(), field: "date")
        if let signer, signer.trimmingCharacters(in: .whitespaces).isEmpty || signer.count > 100 {
            throw SyncError.invalid("signer", signer, "họ tên người ký không được trống và không quá 100 ký tự.")
        }
        let outURL = URL(fileURLWithPath: out)
        var isDir: ObjCBool = false
        let parent = outURL.deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDir), isDir.boolValue else {
            throw SyncError.invalid("out", out, "thư mục «\(parent)» không tồn tại.")
        }
        let s = try store.open()
        let heading = ReportHeading(
            catalog: try s.planBook().plan(for: p), number: number?.trimmingCharacters(in: .whitespaces), date: day,
            signerName: signer.map { VietnameseText.nfc($0.trimmingCharacters(in: .whitespaces)) })
        let report = try ReportSource(store: s).consolidatedReport(for: p, heading: heading)
        let data = try report.export(fmt, audience: audience, part: part)
        try UserFile.write(data, to: out, field: "out")
        print("Đã lập báo cáo \(report.subject) (\(fmt.rawValue)): \(outURL.path)")
        print(
            "Tổng số hoạt động: \(report.totals.activities); số người được tiếp cận: \(report.totals.peopleReached); nhập muộn: \(report.totals.lateEntries)."
        )
        func list(_ codes: [String]) -> String { codes.isEmpty ? "không có" : codes.joined(separator: ", ") }
        print("Đơn vị đã gửi: \(list(report.submitted)); chưa gửi: \(list(report.notSubmitted)).")
    }
}
