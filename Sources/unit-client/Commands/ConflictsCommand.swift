import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

struct ConflictsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts", abstract: "Các trường đang xung đột (sửa đồng thời): mọi giá trị, ai ghi, khi nào; và cách giải quyết.",
        subcommands: [List.self, Resolve.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Liệt kê xung đột.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try printConflicts(
                try store.open().conflicts(), json: output.json,
                footer:
                    "(* giá trị đang hiển thị trên mọi bản sao. Giải quyết: unit-client conflicts resolve MÃ TRƯỜNG --keep DOT hoặc --value GIÁ_TRỊ)")
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resolve", abstract: "Giải quyết xung đột bằng một lần ghi mới thay thế mọi giá trị đang tồn tại.",
            discussion: """
                --keep DOT giữ giá trị của một lần ghi (xem «conflicts list»); --value đặt giá trị mới.
                Với trường «deleted»: --value 0 khôi phục bản ghi, --value 1 xác nhận xóa.
                """)
        @OptionGroup var store: StoreOptions
        @Argument(help: "Mã bản ghi.")
        var record: String
        @Argument(help: "Tên trường.")
        var field: String
        @Option(help: "Giữ giá trị của lần ghi này (dạng bản_sao:số).")
        var keep: String?
        @Option(help: "Giá trị mới.")
        var value: String?

        func run() async throws {
            let s = try store.open()
            let rid = try RecordID.parse(record, field: "record")
            guard let conflict = try s.conflicts().first(where: { $0.record == rid.rawValue && $0.field == field }) else {
                throw SyncError.notFound("xung đột", "\(record) \(field)", field: "field")
            }
            let chosen: Value
            switch (keep, value) {
            case (let k?, nil):
                guard let c = conflict.candidates.first(where: { $0.dot == k }) else {
                    throw SyncError.invalid(
                        "keep", k, "không phải một giá trị của xung đột này (\(conflict.candidates.map(\.dot).joined(separator: ", "))).")
                }
                chosen = field == "deleted" ? .int(c.value == .int(1) ? 1 : 0) : c.value
            case (nil, let v?):
                guard let spec = EntitySchema.fields(rid.kind).first(where: { $0.name == field }) else {
                    throw SyncError.invalid("field", field, "\(rid.kind.label) không có trường này.")
                }
                switch spec.type {
                case .count, .flag:
                    guard let n = Int64(v) else { throw SyncError.invalid(field, v, "cần một số nguyên.") }
                    chosen = .int(n)
                default:
                    chosen = v.isEmpty ? .null : .text(v)
                }
            default:
                throw SyncError.invalid("keep", keep ?? "", "cần đúng một trong --keep hoặc --value.")
            }
            try s.writeRecord(rid, changes: [(field, chosen)], resolve: true)
            print("Đã giải quyết xung đột \(record) «\(field)» = \(chosen).")
        }
    }
}
