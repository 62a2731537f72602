import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

/// `directive`: the Office's direction and steering documents, cited in section I of the report.
struct DirectiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "directive", abstract: "Văn bản chỉ đạo, điều hành của Văn phòng (số, ngày, trích yếu): nêu tại mục I báo cáo tổng hợp.",
        subcommands: [Add.self, List.self, Delete.self], defaultSubcommand: List.self)

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Ghi một văn bản chỉ đạo, đôn đốc (chỉ Văn phòng); in mã ở dòng cuối.",
            discussion: """
                Ví dụ: unit-client directive add --symbol 15/BQLKKTCK-VP --issued 2026-01-05 \\
                  --summary "về việc triển khai Kế hoạch tuyên truyền CCHC năm 2026"
                """)
        @OptionGroup var store: StoreOptions
        @Option(help: "Số, ký hiệu (ví dụ 15/BQLKKTCK-VP).")
        var symbol: String
        @Option(help: "Ngày ban hành (YYYY-MM-DD).")
        var issued: String
        @Option(help: "Trích yếu.")
        var summary: String

        func run() async throws {
            let s = try store.open()
            let id = try s.addDirective(symbol: symbol, issued: issued, summary: summary)
            print("Đã ghi văn bản chỉ đạo:")
            print(id.rawValue)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Liệt kê văn bản chỉ đạo (theo ngày ban hành).")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Chỉ văn bản ban hành trong kỳ này (2026-Q1…).", transform: ReportPeriod.reading("period"))
        var period: ReportPeriod?

        func run() async throws {
            let s = try store.open()
            let w = try period.map { p in try s.planBook().plan(for: p).calendar.window(p) }
            let list = try s.directives(from: w?.from, to: w?.to)
            if output.json { return try printJSON(list) }
            if list.isEmpty { print("Không có văn bản chỉ đạo nào.") }
            for d in list { print("\(CalendarDay.vietnamese(d.issued))  \(d.symbol)  \(d.summary)\n    \(d.id)") }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Xóa một văn bản chỉ đạo (chỉ Văn phòng).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Mã văn bản (VB.…).")
        var id: String

        func run() async throws {
            let s = try store.open()
            try s.deleteDirective(id)
            print("Đã xóa văn bản chỉ đạo \(id).")
        }
    }
}
