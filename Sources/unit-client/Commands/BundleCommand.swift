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
            let (n, _) = try SyncClient.exportBundle(
                store: s, credentials: try s.requireCredentials(), to: out, now: Int64(Date().timeIntervalSince1970))
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
            let s = try store.open()
            let creds = try s.requireCredentials()
            let now = Int64(Date().timeIntervalSince1970)
            let done = try SyncClient.importBundle(path: file, store: s, credentials: creds, now: now)
            if let rec = done.restore {
                print(
                    "Đã khôi phục sau khi cơ sở dữ liệu bị đưa về bản sao lưu cũ: ghi lại \(rec.setAside) thao tác từ số \(rec.replica):\(rec.from) "
                        + "(\(rec.recordsRewritten) bản ghi sửa, \(rec.recordsRecreated) bản ghi tạo lại với mã mới); tệp cũ giữ tại \(rec.oldFile). "
                        + "Hãy xuất gói gửi hub («unit-client bundle export»).")
            }
            let r = done.report
            print("Đã nhập gói \(file): \(r.applied) mới, \(r.duplicates) đã có, \(r.heldBack) chờ, \(r.conflicts) xung đột.")
            for a in done.setAside {
                print(
                    "Bản sao \(a.replica) đã bị thu hồi: máy này giữ thao tác của nó đến \(a.replica):\(a.from - 1), như bản của hub; \(a.setAside) thao tác sau đó máy này nhận trước đây "
                        + "(từ tệp thao tác hoặc gói tin) được để riêng, không áp dụng: hub không bao giờ nhận chúng (máy thay thế ghi lại công việc chưa gửi của nó); tệp cũ giữ tại \(a.oldFile)."
                )
            }
        }
    }
}
