import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

struct ActivityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activity", abstract: "Hoạt động tuyên truyền của đơn vị: ghi nhận, xem, sửa, xóa.",
        subcommands: [Add.self, List.self, Show.self, Edit.self, Delete.self], defaultSubcommand: List.self)

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Ghi nhận một hoạt động; in mã hoạt động ở dòng cuối.",
            discussion: """
                Ví dụ: unit-client activity add --form HT06 --content ND05,ND10 --date 2026-03-02 \\
                  --title "Tin về dịch vụ công trực tuyến toàn trình" --url https://bqlkktck.langson.gov.vn/tin/123
                """)
        @OptionGroup var store: StoreOptions
        @OptionGroup var fields: Fields

        func run() async throws {
            guard fields.form != nil else { throw SyncError.invalid("form", "", "cần --form (HT01–HT09).") }
            guard fields.content != nil else { throw SyncError.invalid("content", "", "cần --content (ND01–ND11).") }
            guard fields.date != nil else { throw SyncError.invalid("date", "", "cần --date (YYYY-MM-DD).") }
            guard let title = fields.title, !title.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw SyncError.invalid("title", fields.title ?? "", "tiêu đề không được để trống.")
            }
            let s = try store.open()
            let me = try s.requireIdentity()
            var changes = fields.changes()
            try checkURLRequirement(store: s, date: fields.date, form: fields.form, url: fields.url)
            changes.insert(("unit", .text(me.unit)), at: 0)
            changes.append(("recorded", .text(ISO8601DateFormatter().string(from: Date()))))
            changes.append(("deleted", .int(0)))
            // The duty it serves: as given, or suggested from the unit, form and content.
            var suggested: String?
            if fields.duty == nil, let date = fields.date, let form = fields.form, CalendarDay.isValid(date),
                let plan = try s.planBook().plan(year: PlanBook.planYear(of: date))
            {
                let content = (fields.content ?? "").uppercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                suggested = DutySuggestion.suggest(unit: me.unit, form: form.uppercased(), content: content, catalog: plan)
                if let suggested { changes.append(("duty", .text(suggested))) }
            }
            let id = try s.createRecord(kind: .activity, owner: me.unit, changes: changes)
            if let suggested {
                print("Nhiệm vụ phục vụ: \(suggested) (gợi ý theo hình thức; sửa bằng «activity edit \(id.rawValue) --duty TN..»).")
            }
            print("Đã ghi nhận hoạt động:")
            print(id.rawValue)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "Liệt kê hoạt động (theo ngày, rồi theo tiêu đề thứ tự tiếng Việt).",
            discussion: "Tìm kiếm không phân biệt dấu và hoa thường: --search \"dong dang\" tìm thấy «Đồng Đăng».")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Kỳ báo cáo: 2026-Q1, 2026-H1, 2026-Q3, 2026-9M, 2026-Y… (theo ngày chốt số liệu).", transform: ReportPeriod.reading("period"))
        var period: ReportPeriod?
        @Option(help: "Tìm trong tiêu đề, mô tả, ghi chú (không phân biệt dấu).")
        var search: String?
        @Option(help: "Chỉ hoạt động của đơn vị này (mặc định: mọi đơn vị có trong bản sao).")
        var unit: String?

        func run() async throws {
            let s = try store.open()
            if let unit { _ = try s.catalog.requireUnit(unit) }
            // The period's window by its plan's reporting calendar (Nghị định 09 when the plan sets none).
            let w = try period.map { p in try s.planBook().plan(for: p).calendar.window(p) }
            let list = try s.activities(unit: unit, from: w?.from, to: w?.to, search: search)
            if output.json { return try printJSON(list) }
            if list.isEmpty { print("Không có hoạt động nào.") }
            for a in list {
                var figures: [String] = []
                if let q = a.quantity { figures.append("SL \(q)") }
                if let n = a.participants { figures.append("\(n) người") }
                let f = figures.isEmpty ? "" : " (\(figures.joined(separator: ", ")))"
                print("\(CalendarDay.vietnamese(a.date))  \(a.form)  \(a.content.joined(separator: ","))  \(a.title)\(f)")
                print("    \(a.id)\(a.url.map { "  \($0)" } ?? "")")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Xem một hoạt động.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Mã hoạt động.")
        var id: String

        func run() async throws {
            let s = try store.open()
            guard let a = try s.activity(id) else { throw SyncError.notFound("hoạt động", id) }
            if output.json { return try printJSON(a) }
            print(
                "Mã: \(a.id)\nĐơn vị: \(a.unit)\nNgày: \(CalendarDay.vietnamese(a.date))\nHình thức: \(a.form)\nNội dung: \(a.content.joined(separator: ", "))\nTiêu đề: \(a.title)"
            )
            if let d = a.description { print("Mô tả: \(d)") }
            if let q = a.quantity { print("Số lượng: \(q)") }
            if let p = a.participants { print("Số người: \(p)") }
            if let u = a.url { print("Đường dẫn: \(u)") }
            if let n = a.note { print("Ghi chú: \(n)") }
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "edit", abstract: "Sửa các trường của một hoạt động; mỗi trường đổi là một thay đổi được đồng bộ.",
            discussion: "Ví dụ: unit-client activity edit HD.TTQLCK.a1b2c3d4.17 --quantity 600")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Mã hoạt động.")
        var id: String
        @OptionGroup var fields: Fields

        func run() async throws {
            let rid = try RecordID.parse(id)
            let changes = fields.changes()
            guard !changes.isEmpty else { throw SyncError.invalid("fields", "", "cần ít nhất một trường để sửa (--title, --quantity…).") }
            if let t = fields.title, t.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw SyncError.invalid("title", t, "tiêu đề không được để trống.")
            }
            let s = try store.open()
            guard rid.kind == .activity, let current = try s.activity(rid.rawValue) else { throw SyncError.notFound("hoạt động", id) }
            try checkURLRequirement(store: s, date: fields.date ?? current.date, form: fields.form ?? current.form, url: fields.url ?? current.url)
            let ops = try s.writeRecord(rid, changes: changes)
            print(ops.isEmpty ? "Không có gì thay đổi." : "Đã sửa hoạt động \(id) (\(ops.count) trường).")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete", abstract: "Xóa một hoạt động (sửa đồng thời ở nơi khác sẽ hiện thành xung đột để xem xét).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Mã hoạt động.")
        var id: String

        func run() async throws {
            let rid = try RecordID.parse(id)
            let s = try store.open()
            guard rid.kind == .activity, try s.exists(rid) else { throw SyncError.notFound("hoạt động", id) }
            try s.writeRecord(rid, changes: [], delete: true)
            print("Đã xóa hoạt động \(id).")
        }
    }
}
