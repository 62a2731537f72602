import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Đồng bộ với hub qua HTTP: gửi thay đổi chưa gửi, nhận những gì còn thiếu, theo từng trang.",
        discussion: """
            Mặc định dùng địa chỉ hub và khóa trong tệp ghi danh. Mỗi trang được áp dụng trong một giao dịch,
            nên đồng bộ bị ngắt sẽ tiếp tục từ chỗ dừng. Lỗi mạng được thử lại với thời gian chờ tăng dần.
            Mã thoát: 0 thành công; 4 bị từ chối xác thực/quyền; 8 không kết nối được hub.
            """)
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "Địa chỉ hub, ví dụ http://127.0.0.1:8080 (mặc định: từ tệp ghi danh).")
    var hub: String?
    @Option(help: "Số thao tác tối đa mỗi trang (mặc định: \(SyncProtocol.maxPageOps)).", transform: Count.readingInt("page_size"))
    var pageSize = SyncProtocol.maxPageOps
    @Option(help: "Số lần thử mỗi trang khi lỗi mạng (mặc định: 6).", transform: Count.readingInt("attempts"))
    var attempts = 6
    @Option(help: "Thời gian chờ mỗi yêu cầu (giây; mặc định: 60).", transform: Double.reading("timeout"))
    var timeout = 60.0

    func validate() throws {
        guard (1...SyncProtocol.maxPageOps).contains(pageSize) else {
            throw SyncError(
                .invalidInput, "--page-size «\(pageSize)» phải trong khoảng 1–\(SyncProtocol.maxPageOps).", field: "page_size",
                value: String(pageSize))
        }
        guard attempts >= 1 else {
            throw SyncError(.invalidInput, "--attempts «\(attempts)» phải ≥ 1.", field: "attempts", value: String(attempts))
        }
    }

    func run() async throws {
        let s = try store.open()
        let creds = try s.requireCredentials()
        guard let raw = hub ?? creds.hubURL else {
            throw SyncError(
                .invalidInput, "Thiếu «--hub»: chưa có địa chỉ hub; dùng --hub URL hoặc ghi danh với «hub enrol --url».", field: "hub")
        }
        let url = try SyncClient.hubURL(raw, field: "hub")
        var client = SyncClient(store: s, credentials: creds, hubURL: raw, transport: URLSessionTransport(hubURL: url, timeout: timeout))
        client.pageLimit = pageSize
        client.retry = RetryPolicy(attempts: attempts)
        let quiet = output.json
        let summary = try await client.run { p in
            if !quiet && (p.more || p.page > 1) {
                FileHandle.standardError.write(
                    Data("… trang \(p.page): đã gửi \(p.sent), đã nhận \(p.received)\(p.more ? ", còn tiếp" : "")\n".utf8))
            }
        }
        if output.json { return try printJSON(summary) }
        print(
            "Đồng bộ xong với \(raw): đã gửi \(summary.sent), đã nhận \(summary.received), xung đột \(summary.conflicts) "
                + "(\(summary.roundTrips) lượt, \(summary.retries) lần thử lại).")
    }
}
