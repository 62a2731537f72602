import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract:
            "Lịch sử kiểm tra của một bản ghi: mọi thao tác, ai ghi (bản sao, đơn vị, máy), khi nào, thay thế giá trị nào, đã xác minh chữ ký chưa.",
        discussion: """
            Các thao tác theo thứ tự áp dụng (HLC, rồi mã thao tác), giờ Việt Nam. Mỗi thao tác là «đã xác minh» khi chữ ký \
            của tác giả bao trùm nó, «dữ liệu cũ chưa ký» khi nhận từ phiên bản trước khi có chữ ký, nếu không thì «chưa \
            xác minh»; thao tác «đang chờ» khoảng trống cũng được liệt kê.
            Ví dụ: unit-client history HD.TTQLCK.a1b2c3d4.17
                   unit-client history NV.TTQLCK.TN06 --json
            """)
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Mã bản ghi (HD.…, NV.…, BC.… hoặc RE.…).")
    var record: String

    func run() async throws {
        let id = try RecordID.parse(record, field: "record")
        try printHistory(try store.open().recordHistory(of: id), json: output.json)
    }
}
