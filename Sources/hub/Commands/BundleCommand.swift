import ArgumentParser
import Foundation
import SyncCore

struct HubBundleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle", abstract: "Gói tin đồng bộ ngoại tuyến (USB): nhập gói của bản sao, xuất gói cho bản sao.",
        subcommands: [Import.self, Export.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import", abstract: "Nhập gói tin của một bản sao (kiểm tra tổng kiểm, chữ ký, thu hồi, nhập lại, quyền ghi).")
        @OptionGroup var store: HubStoreOptions
        @Argument(help: "Tệp gói tin.")
        var file: String

        func run() async throws {
            let r = try HubSyncService(store: store.open()).importBundle(path: file, now: Int64(Date().timeIntervalSince1970))
            print("Đã nhập gói của bản sao \(r.replica) (\(r.unit)): \(r.applied) thao tác mới, \(r.duplicates) đã có.")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export", abstract: "Xuất cho một bản sao mọi thao tác nó còn thiếu, ký bằng khóa của bản sao đó.")
        @OptionGroup var store: HubStoreOptions
        @Option(help: "Mã bản sao (xem «hub status» hoặc «unit-client status --json», trường replica_id).")
        var replica: String
        @Option(help: "Tệp ra.")
        var out: String

        func run() async throws {
            let id = try ReplicaID.parse(replica)
            let (n, _) = try HubSyncService(store: store.open()).exportBundle(for: id, to: out, now: Int64(Date().timeIntervalSince1970))
            print("Đã xuất \(n) thao tác cho bản sao \(id) ra \(out).")
        }
    }
}
