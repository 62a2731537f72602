import ArgumentParser
import Foundation
import SyncCore

struct BundleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle", abstract: "Đồng bộ bằng tệp khi không có mạng: xuất gói gửi hub, nhập gói hub gửi về (ký và có tổng kiểm).",
        subcommands: [Export.self, Import.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export", abstract: "Ghi gói gửi hub: véc-tơ của bản sao và các thay đổi hub chưa xác nhận.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Tệp ra.")
        var out: String

        func run() async throws {
            let s = try store.open()
            let (data, n) = try SyncClient.exportBundle(
                store: s, credentials: try s.requireCredentials(), now: Int64(Date().timeIntervalSince1970))
            try UserFile.write(data, to: out, field: "out")
            print("Đã xuất gói \(out): \(n) thao tác gửi hub.")
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import", abstract: "Nhập gói hub gửi về (kiểm tra tổng kiểm và chữ ký); gói đã nhập sẽ bị từ chối, không thay đổi gì.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Tệp gói tin.")
        var file: String

        func run() async throws {
            let data = try UserFile.read(file, field: "file")
            let s = try store.open()
            let r = try SyncClient.importBundle(
                data, path: file, store: s, credentials: try s.requireCredentials(), now: Int64(Date().timeIntervalSince1970))
            print("Đã nhập gói \(file): \(r.applied) mới, \(r.duplicates) đã có, \(r.heldBack) chờ, \(r.conflicts) xung đột.")
        }
    }
}
