import ArgumentParser
import Foundation
import SyncCore

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
            let vv = try since.map { try VersionVector.parse($0, field: "since") } ?? VersionVector()
            let s = try store.open()
            let me = try s.requireIdentity()
            let ops = try s.ops(after: vv)
            let file = OpsFile(replica: me.replica, unit: me.unit, versionVector: try s.versionVector(), ops: ops)
            try UserFile.write(try file.encoded(), to: out, field: "out")
            print("Đã xuất \(ops.count) thao tác ra \(out).")
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import", abstract: "Nhập thao tác từ tệp; thao tác đã có được bỏ qua, nhập lại không thay đổi gì.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Tệp thao tác.")
        var file: String

        func run() async throws {
            let s = try store.open()
            let f = try OpsFile.read(path: file)
            let r = try s.apply(f.ops, source: .peer(authenticated: nil, unit: nil))
            print("Đã nhập: \(r.applied) mới, \(r.duplicates) đã có, \(r.heldBack) chờ, \(r.conflicts) xung đột.")
        }
    }
}
