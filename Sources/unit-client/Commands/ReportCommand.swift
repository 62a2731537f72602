import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Báo cáo kỳ của đơn vị: lập bản nháp, xem, gửi (chốt số liệu).",
        discussion: """
            Số liệu được tính lại từ các hoạt động của đơn vị trong kỳ (quý I: 15/12 năm trước → 14/03; 6 tháng: → 14/06;
            quý III: 15/06 → 14/09; năm: → 14/12). Khi gửi, số liệu được chốt kèm mã băm SHA-256; hoạt động nhập sau thời điểm gửi
            được tính vào báo cáo kỳ tiếp theo và ghi chú «nhập muộn».
            """,
        subcommands: [Draft.self, Show.self, Submit.self, Consolidate.self], defaultSubcommand: Show.self)

    struct PeriodOption: ParsableArguments {
        @Option(help: "Kỳ báo cáo: 2026-Q1…Q4, 2026-H1 (6 tháng), 2026-9M (9 tháng), 2026-Y (năm).", transform: ReportPeriod.reading("period"))
        var period: ReportPeriod

        /// A unit reports for a quarter, the half year or the year, not for an ad-hoc window.
        func validate() throws {
            _ = try UnitReports.id(unit: "VP", period: period)
        }
    }

    struct Draft: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "draft", abstract: "Lập hoặc cập nhật bản nháp báo cáo kỳ (số liệu tính lại từ hoạt động).",
            discussion: """
                Ví dụ: unit-client report draft --period 2026-Q1 --results "Đã đăng 12 tin, bài" --issues "…" --proposals "…" \\
                  --tthc-total 40 --tthc-online 36 --dossiers-total 1200 --dossiers-online 1100
                """)
        @OptionGroup var store: StoreOptions
        @OptionGroup var period: PeriodOption
        @Option(help: "Kết quả đạt được.")
        var results: String?
        @Option(help: "Tồn tại, hạn chế.")
        var issues: String?
        @Option(help: "Đề xuất, kiến nghị.")
        var proposals: String?
        @Option(
            name: .customLong("tthc-total"), parsing: .unconditional, help: "Số TTHC đủ điều kiện cung cấp trực tuyến toàn trình.",
            transform: Count.reading("tthc_total"))
        var tthcTotal: Count?
        @Option(
            name: .customLong("tthc-online"), parsing: .unconditional, help: "Số TTHC đã cung cấp trực tuyến toàn trình.",
            transform: Count.reading("tthc_online"))
        var tthcOnline: Count?
        @Option(
            name: .customLong("dossiers-total"), parsing: .unconditional, help: "Tổng số hồ sơ TTHC tiếp nhận.",
            transform: Count.reading("dossiers_total"))
        var dossiersTotal: Count?
        @Option(
            name: .customLong("dossiers-online"), parsing: .unconditional, help: "Số hồ sơ tiếp nhận, xử lý trực tuyến.",
            transform: Count.reading("dossiers_online"))
        var dossiersOnline: Count?

        func run() async throws {
            let p = period.period
            let draft = UnitReportDraft(
                results: results, issues: issues, proposals: proposals, tthcTotal: tthcTotal?.value, tthcOnline: tthcOnline?.value,
                dossiersTotal: dossiersTotal?.value, dossiersOnline: dossiersOnline?.value)
            let s = try store.open()
            let row = try UnitReports(store: s).draft(period: p, draft: draft)
            print("Đã lưu bản nháp báo cáo \(row.id).")
            printSummary(row, catalog: s.catalog)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Xem báo cáo kỳ của đơn vị và số liệu.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var period: PeriodOption

        func run() async throws {
            let p = period.period
            let s = try store.open()
            let me = try s.requireIdentity()
            let id = try UnitReports.id(unit: me.unit, period: p)
            guard let row = try UnitReports(store: s).report(unit: me.unit, period: p) else {
                throw SyncError(
                    .notFound, "Chưa có báo cáo «\(id.rawValue)»; hãy lập bằng «unit-client report draft --period \(p)».", field: "period",
                    value: p.description)
            }
            if output.json { return try printJSON(UnitReportView(row)) }
            printSummary(row, catalog: s.catalog)
        }
    }

    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "submit", abstract: "Gửi báo cáo kỳ: chốt số liệu (mã băm SHA-256); sau đó không sửa được nữa.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var period: PeriodOption

        func run() async throws {
            let p = period.period
            let s = try store.open()
            let row = try UnitReports(store: s).submit(period: p)
            print("Đã gửi báo cáo \(row.id) lúc \(row.submittedAt ?? "?"); số liệu đã chốt, mã băm \(row.figuresHash ?? "?").")
            print("Báo cáo sẽ đến hub ở lần đồng bộ tiếp theo.")
        }
    }
}

/// The stored report with its figures decoded, for `report show --json`.
struct UnitReportView: Encodable {
    var report: UnitReportRow
    var figures: UnitFigures?

    init(_ row: UnitReportRow) {
        var r = row
        figures = row.figures.flatMap { try? JSONDecoder().decode(UnitFigures.self, from: Data($0.utf8)) }
        if figures != nil { r.figures = nil }
        report = r
    }
}

func printSummary(_ row: UnitReportRow, catalog: Catalog) {
    print("Báo cáo: \(row.id)  [\(row.status.label)]")
    if let at = row.submittedAt { print("Gửi lúc: \(at)   mã băm: \(row.figuresHash ?? "?")") }
    if let f = row.figures.flatMap({ try? JSONDecoder().decode(UnitFigures.self, from: Data($0.utf8)) }) {
        print("Kỳ: \(f.period) (\(CalendarDay.vietnamese(f.from)) – \(CalendarDay.vietnamese(f.to)))")
        print("Số hoạt động: \(f.activities) (nhập muộn của kỳ trước: \(f.lateEntries)); số người được tiếp cận: \(f.peopleReached)")
        for x in f.byForm where x.activities > 0 {
            var line = "  \(x.code) \(x.title): \(x.quantity) \(x.quantityUnit)"
            if let pu = x.participantsUnit, x.participants > 0 { line += ", \(x.participants) \(pu)" }
            print(line + " (\(x.activities) hoạt động)")
        }
        for c in f.byContent where c.activities > 0 { print("  \(c.code) \(c.title): \(c.activities) hoạt động") }
    }
    func count(_ label: String, _ v: Int64?) -> String { "\(label) \(v.map(String.init) ?? "—")" }
    print(
        "Dịch vụ công trực tuyến: \(count("TTHC trực tuyến", row.tthcOnline))/\(row.tthcTotal.map(String.init) ?? "—"); \(count("hồ sơ trực tuyến", row.dossiersOnline))/\(row.dossiersTotal.map(String.init) ?? "—")"
    )
    if let r = row.results { print("Kết quả: \(r)") }
    if let i = row.issues { print("Tồn tại, hạn chế: \(i)") }
    if let p = row.proposals { print("Đề xuất: \(p)") }
}
