import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task", abstract: "Nhiệm vụ được giao: xem, cập nhật tiến độ, giao mới (Văn phòng).",
        subcommands: [List.self, Update.self, Add.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Liệt kê nhiệm vụ.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Chỉ nhiệm vụ của đơn vị này.")
        var unit: String?

        func run() async throws {
            let s = try store.open()
            if let unit { _ = try s.catalog.requireUnit(unit) }
            let tasks = try s.tasks(unit: unit)
            if output.json { return try printJSON(tasks) }
            if tasks.isEmpty { print("Không có nhiệm vụ.") }
            for t in tasks {
                let due = t.due.map { " hạn \(CalendarDay.vietnamese($0))" } ?? ""
                print("\(t.id)  [\(t.status.label)]\(due)  \(t.title)")
                if let n = t.note { print("    ghi chú: \(n)") }
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "update", abstract: "Cập nhật trạng thái, ghi chú tiến độ của nhiệm vụ.",
            discussion: "Ví dụ: unit-client task update NV.TTQLCK.TN06 --status \"đang thực hiện\" --note \"Đã phát 500 tờ rơi\"")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Mã nhiệm vụ (xem «task list»).")
        var id: String
        @Option(help: "chưa thực hiện | đang thực hiện | hoàn thành", transform: TaskStatus.reading("status"))
        var status: TaskStatus?
        @Option(help: "Ghi chú tiến độ.")
        var note: String?
        @Option(help: "Hạn (YYYY-MM-DD); chỉ Văn phòng.")
        var due: String?
        @Option(help: "Tên nhiệm vụ; chỉ Văn phòng.")
        var title: String?

        func run() async throws {
            var changes: [(String, Value)] = []
            if let status { changes.append(("status", .text(status.rawValue))) }
            if let note { changes.append(("note", .text(note))) }
            if let due { changes.append(("due", .text(due))) }
            if let title { changes.append(("title", .text(title))) }
            guard !changes.isEmpty else {
                throw SyncError.invalid("status", "", "cần ít nhất một trong --status, --note, --due, --title.")
            }
            let s = try store.open()
            let rid = try RecordID.parse(id)
            guard rid.kind == .task, try s.exists(rid) else { throw SyncError.notFound("nhiệm vụ", id) }
            let ops = try s.writeRecord(rid, changes: changes)
            print(ops.isEmpty ? "Không có gì thay đổi." : "Đã cập nhật nhiệm vụ \(id).")
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Giao nhiệm vụ mới cho một đơn vị (chỉ Văn phòng).",
            discussion: "Ví dụ: unit-client task add --unit TTQLCK --item ND05 --due 2026-06-14 --title \"Tuyên truyền DVC trực tuyến tại cửa khẩu\"")
        @OptionGroup var store: StoreOptions
        @Option(help: "Đơn vị được giao.")
        var unit: String
        @Option(help: "Nội dung (ND01–ND11) hoặc nhiệm vụ (TN01–TN06) của Kế hoạch.")
        var item: String
        @Option(help: "Hạn hoàn thành (YYYY-MM-DD).")
        var due: String?
        @Option(help: "Tên nhiệm vụ.")
        var title: String
        @Option(help: "Ghi chú.")
        var note: String?

        func run() async throws {
            let s = try store.open()
            _ = try s.catalog.requireUnit(unit)
            var changes: [(String, Value)] = [
                ("unit", .text(unit)), ("item", .text(item.uppercased())), ("title", .text(title)),
                ("status", .text(TaskStatus.notStarted.rawValue)), ("deleted", .int(0)),
            ]
            if let due { changes.append(("due", .text(due))) }
            if let note { changes.append(("note", .text(note))) }
            let rid = try s.createRecord(kind: .task, owner: unit, changes: changes)
            print("Đã giao nhiệm vụ cho \(unit):")
            print(rid.rawValue)
        }
    }
}
