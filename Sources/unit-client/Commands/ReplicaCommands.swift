import ArgumentParser
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
            try reportingErrors {
                let list = try store.open().conflicts()
                if output.json { return try printJSON(list) }
                if list.isEmpty { print("Không có xung đột.") }
                for c in list {
                    print("\(c.record)  trường «\(c.field)»:")
                    for v in c.candidates {
                        let mark = v.winner ? "*" : " "
                        print("  \(mark) \(v.value)    — \(v.unit ?? "?") / bản sao \(v.replica), \(v.time) [\(v.dot)]")
                    }
                }
                if !list.isEmpty {
                    print(
                        "(* giá trị đang hiển thị trên mọi bản sao. Giải quyết: unit-client conflicts resolve MÃ TRƯỜNG --keep DOT hoặc --value GIÁ_TRỊ)"
                    )
                }
            }
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
            try reportingErrors {
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
}

/// What `status` reports.
struct StatusReport: Codable {
    var replicaID: String
    var unit: String
    var db: String
    var versionVector: VersionVector
    var ops: Int
    var pending: Int
    var conflicts: Int
    var unacknowledged: UInt64
    var hubURL: String?
    var lastSync: String?

    enum CodingKeys: String, CodingKey {
        case replicaID = "replica_id"
        case unit, db, ops, pending, conflicts, unacknowledged
        case versionVector = "version_vector"
        case hubURL = "hub_url"
        case lastSync = "last_sync"
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Mã bản sao, đơn vị, véc-tơ phiên bản, số thay đổi chưa được hub xác nhận.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try reportingErrors {
            let s = try store.open()
            let me = try s.requireIdentity()
            let hub = try s.peer("hub")
            let r = StatusReport(
                replicaID: me.replica.rawValue, unit: me.unit, db: store.path, versionVector: try s.versionVector(), ops: try s.opCount(),
                pending: try s.pendingCount(), conflicts: try s.conflicts().count,
                unacknowledged: try s.unacknowledgedCount(acked: hub?.acked ?? VersionVector()), hubURL: hub?.url, lastSync: hub?.lastSync)
            if output.json { return try printJSON(r) }
            print("Bản sao:        \(r.replicaID)")
            print("Đơn vị:         \(r.unit) (\(s.catalog.unit(r.unit)?.name ?? ""))")
            print("Cơ sở dữ liệu:  \(r.db)")
            print("Véc-tơ:         \(r.versionVector)")
            print("Thao tác:       \(r.ops) (chờ khoảng trống: \(r.pending))")
            print("Xung đột:       \(r.conflicts)")
            print("Chưa gửi hub:   \(r.unacknowledged)")
            print("Hub:            \(r.hubURL ?? "chưa cấu hình")\(r.lastSync.map { ", đồng bộ lần cuối \($0)" } ?? "")")
        }
    }
}

struct DumpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump", abstract: "In trạng thái chuẩn tắc (JSON, khóa sắp xếp) để so sánh các bản sao.")
    @OptionGroup var store: StoreOptions

    func run() async throws {
        try reportingErrors {
            FileHandle.standardOutput.write(try store.open().dump().json())
        }
    }
}

struct OpsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops", abstract: "Trao đổi thao tác dạng tệp thường (không ký) giữa các bản sao.",
        subcommands: [Export.self, Import.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export", abstract: "Ghi các thao tác ra tệp (tất cả, hoặc những gì sau véc-tơ --since).")
        @OptionGroup var store: StoreOptions
        @Option(help: "Chỉ xuất thao tác sau véc-tơ này, dạng «bản_sao:số,bản_sao:số».")
        var since: String?
        @Option(help: "Tệp ra.")
        var out: String

        func run() async throws {
            try reportingErrors {
                let vv = try since.map { try VersionVector.parse($0, field: "since") } ?? VersionVector()
                let s = try store.open()
                let me = try s.requireIdentity()
                let ops = try s.ops(after: vv)
                let file = OpsFile(replica: me.replica, unit: me.unit, versionVector: try s.versionVector(), ops: ops)
                try UserFile.write(try file.encoded(), to: out, field: "out")
                print("Đã xuất \(ops.count) thao tác ra \(out).")
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import", abstract: "Nhập thao tác từ tệp; thao tác đã có được bỏ qua, nhập lại không thay đổi gì.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Tệp thao tác.")
        var file: String

        func run() async throws {
            try reportingErrors {
                let s = try store.open()
                let f = try OpsFile.read(path: file)
                let r = try s.apply(f.ops, source: .peer(authenticated: nil, unit: nil))
                print("Đã nhập: \(r.applied) mới, \(r.duplicates) đã có, \(r.heldBack) chờ, \(r.conflicts) xung đột.")
            }
        }
    }
}
