import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Kiểm tra cơ sở dữ liệu của bản sao: tệp SQLite, nhật ký thao tác (chuỗi băm, chữ ký), các bảng dẫn xuất.",
        discussion: """
            Không thay đổi gì. Kiểm tra PRAGMA quick_check (--full: integrity_check); băm lại nhật ký thao tác của từng bản sao
            và so với đầu chuỗi, chữ ký đã lưu; dựng lại các bảng từ nhật ký thao tác vào một tệp tạm bên cạnh rồi so từng bản ghi.
            Mã thoát 0 nếu tốt, 7 nếu hỏng (mỗi vấn đề nêu cái gì hỏng và ở đâu); khi đó chạy «unit-client repair».
            Checks the replica without changing it; exit 7 on damage.
            """)
    @OptionGroup var store: StoreOptions
    @Flag(help: "Dùng PRAGMA integrity_check (đầy đủ, chậm hơn) thay cho quick_check.")
    var full = false
    @Flag(help: "Nhanh: không dựng lại các bảng dẫn xuất để so; băm lại mọi chuỗi nhưng chỉ kiểm chữ ký của đầu chuỗi cuối mỗi bản sao.")
    var quick = false
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let report = try store.open().verify(full: full, derived: !quick, everySignature: !quick)
        try printVerifyReport(report, json: output.json, repair: "unit-client repair --db \(store.path)")
    }
}

struct RepairCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair", abstract: "Sửa cơ sở dữ liệu bị hỏng: dựng lại các bảng từ nhật ký thao tác đã kiểm tra, giữ tệp cũ bên cạnh.",
        discussion: """
            Các bảng hoạt động, nhiệm vụ, báo cáo được suy ra từ nhật ký thao tác, nên «repair» dựng lại cơ sở dữ liệu từ
            nhật ký thao tác đã kiểm tra vào một tệp mới, kiểm tra tệp mới, rồi thay vào chỗ tệp cũ (giữ tại
            <db>.truoc-sua-chua-<thời điểm>). Nếu nhật ký thao tác của một bản sao hỏng, phần từ chỗ hỏng trở đi được bỏ và
            nhận lại ở lần đồng bộ tới («unit-client sync»); thao tác của chính máy này mà hub chưa nhận thì không nhận lại
            được: khi đó «repair» từ chối (mã thoát 6) trừ khi có --accept-loss. Không chạy khi tệp đang được tiến trình khác
            mở (mã thoát 8).
            Rebuilds the replica from its verified op log; the old file is kept.
            """)
    @OptionGroup var store: StoreOptions
    @Flag(help: "Dùng PRAGMA integrity_check thay cho quick_check khi kiểm tra.")
    var full = false
    @Flag(help: "Chấp nhận mất các thao tác của chính máy này nằm sau chỗ nhật ký hỏng mà hub chưa nhận.")
    var acceptLoss = false
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let s = try store.open()
        let credentials = try? s.credentials()
        try? s.close()
        let report = try ReplicaStore.repair(path: store.path, full: full, acceptLoss: acceptLoss)
        // A rebuild keeps the credential row but not the pinned hub certificate: put it back.
        if let credentials, credentials.tlsPin != nil {
            let repaired = try store.open()
            if try repaired.credentials()?.tlsPin == nil { try repaired.saveCredentials(credentials) }
            try? repaired.close()
        }
        try printRepairReport(report, json: output.json)
    }
}
