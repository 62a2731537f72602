import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

struct HubOpsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops", abstract: "Thao tác mang từ máy của đơn vị bằng tệp («unit-client ops export»).",
        subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Nhập vào hub tệp thao tác do một máy xuất («unit-client ops export --out TỆP»), sau khi kiểm tra chuỗi và chữ ký.",
            discussion: """
                Dùng sau khi khôi phục hub từ bản sao lưu: thao tác hub đã nhận sau bản sao lưu được chính máy ghi chúng trả lại
                ở lần đồng bộ sau; thao tác của một máy không còn đồng bộ nữa thì mang vào bằng tệp từ một máy khác đã nhận chúng.
                Chỉ nhận thao tác của bản sao đã ghi danh ở hub này và chưa bị thu hồi; thao tác đã có được bỏ qua; tệp hỏng ở bất kỳ
                trang nào thì không nhập gì.
                """)
        @OptionGroup var store: HubStoreOptions
        @Argument(help: "Tệp thao tác.")
        var file: String

        func run() async throws {
            let s = try store.open()
            let r = try OpsFileReader.importing(path: file) { pages in try s.importRelayed(pages: pages, path: file) }
            print("Đã nhập vào hub: \(r.applied) mới, \(r.duplicates) đã có, \(r.heldBack) chờ, \(r.conflicts) xung đột.")
        }
    }
}
