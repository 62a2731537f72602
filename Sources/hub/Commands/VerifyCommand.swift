import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

struct HubVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Kiểm tra cơ sở dữ liệu hub: tệp SQLite, nhật ký thao tác (chuỗi băm, chữ ký), các bảng dẫn xuất.",
        discussion: """
            Không thay đổi gì, chạy được khi «hub serve» đang phục vụ (so các bảng trên một bản chụp bằng SQLite backup API).
            PRAGMA quick_check (--full: integrity_check); băm lại nhật ký thao tác của từng bản sao và so với đầu chuỗi, chữ ký
            đã lưu; dựng lại các bảng từ nhật ký thao tác rồi so từng bản ghi (--quick: bỏ bước này, như «hub serve» kiểm tra
            khi khởi động). Mã thoát 0 nếu tốt, 7 nếu hỏng; khi đó chạy «hub repair» hoặc khôi phục bản sao lưu đêm.
            """)
    @OptionGroup var store: HubStoreOptions
    @Flag(help: "Dùng PRAGMA integrity_check (đầy đủ, chậm hơn) thay cho quick_check.")
    var full = false
    @Flag(
        help: "Nhanh, như «hub serve» khi khởi động: không dựng lại các bảng dẫn xuất; băm lại mọi chuỗi, chỉ kiểm chữ ký đầu chuỗi cuối."
    )
    var quick = false
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let report = try store.open().verify(full: full, derived: !quick, everySignature: !quick)
        try printVerifyReport(report, json: output.json, repair: "hub repair --db \(store.path)")
    }
}

struct HubRepairCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair", abstract: "Sửa cơ sở dữ liệu hub bị hỏng: dựng lại từ nhật ký thao tác đã kiểm tra, giữ tệp cũ bên cạnh.",
        discussion: """
            Dừng «hub serve» trước (tệp đang mở ở tiến trình khác thì từ chối, mã thoát 8). Dựng lại cơ sở dữ liệu từ nhật ký
            thao tác đã kiểm tra vào tệp mới, kiểm tra tệp mới, rồi thay vào chỗ tệp cũ (giữ tại <db>.truoc-sua-chua-<thời điểm>).
            Nhật ký của một bản sao hỏng từ đâu thì bỏ từ đó (cắt ở đầu chuỗi đã ký cuối cùng còn đúng); bản sao đó gửi lại ở
            lần đồng bộ tới. Nếu không dựng lại được: khôi phục bản sao lưu đêm.
            """)
    @OptionGroup var store: HubStoreOptions
    @Flag(help: "Dùng PRAGMA integrity_check thay cho quick_check khi kiểm tra.")
    var full = false
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let s = try store.open()
        try? s.close()
        let report = try ReplicaStore.repair(path: store.path, full: full)
        try printRepairReport(report, json: output.json)
    }
}
