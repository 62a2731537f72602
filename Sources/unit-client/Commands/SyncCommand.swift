import ArgumentParser
import CommandSupport
import Foundation
import PinnedTransport
import SyncCore

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Đồng bộ với hub qua HTTP: gửi thay đổi chưa gửi, nhận những gì còn thiếu, theo từng trang.",
        discussion: """
            Mặc định dùng địa chỉ hub và khóa trong tệp ghi danh. Mỗi trang được áp dụng trong một giao dịch,
            nên đồng bộ bị ngắt sẽ tiếp tục từ chỗ dừng. Lỗi mạng được thử lại với thời gian chờ tăng dần.
            Chỉ báo thành công khi hai bên giữ cùng dữ liệu (véc-tơ hai bên được so sánh). Nếu cơ sở dữ liệu đã bị đưa về một
            bản sao lưu cũ và ghi tiếp, lệnh tự khôi phục: nhận lại từ hub các thao tác của bản sao, ghi lại công việc làm sau
            bản sao lưu dưới số mới, giữ tệp cũ bên cạnh.
            Mã thoát: 0 thành công; 4 bị từ chối xác thực/quyền (kể cả tệp ghi danh đã dùng trên máy khác: xem «rehome»);
            8 không kết nối được hub hoặc đồng bộ chưa đầy đủ; 9 phân nhánh (hai thao tác khác nhau cùng một số).
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
        let transport = try Self.transport(url: url, raw: raw, pin: creds.tlsPin, timeout: timeout)
        func client(_ s: ReplicaStore) -> SyncClient {
            var c = SyncClient(store: s, credentials: creds, hubURL: raw, transport: transport)
            c.pageLimit = pageSize
            c.retry = RetryPolicy(attempts: attempts)
            return c
        }
        let quiet = output.json
        let progress: @Sendable (SyncProgress) -> Void = { p in
            if !quiet && (p.more || p.page > 1) {
                FileHandle.standardError.write(
                    Data("… trang \(p.page): đã gửi \(p.sent), đã nhận \(p.received)\(p.more ? ", còn tiếp" : "")\n".utf8))
            }
        }
        // After a restore from an old copy, the client recovers and syncs again (SyncClient.runRecovering).
        let (summary, recovered, _) = try await client(s).runRecovering(progress: progress) { e in
            FileHandle.standardError.write(Data("\(e.message)\nĐang khôi phục…\n".utf8))
        }
        if output.json {
            struct Out: Encodable {
                var sync: SyncSummary
                var recovered: Recovery.Report?
                var setAside: [Recovery.Report]?
                enum CodingKeys: String, CodingKey {
                    case sync, recovered
                    case setAside = "set_aside"
                }
            }
            return try printJSON(
                recovered.isEmpty
                    ? AnyEncodable(summary)
                    : AnyEncodable(Out(sync: summary, recovered: recovered.restore, setAside: recovered.setAside.isEmpty ? nil : recovered.setAside)))
        }
        if let r = recovered.restore {
            print(
                "Đã khôi phục sau khi cơ sở dữ liệu bị đưa về bản sao lưu cũ: nhận lại thao tác của bản sao từ hub, ghi lại \(r.setAside) thao tác "
                    + "(\(r.recordsRewritten) bản ghi sửa, \(r.recordsRecreated) bản ghi tạo lại với mã mới) từ số \(r.replica):\(r.from); tệp cũ giữ tại \(r.oldFile)."
            )
        }
        for r in recovered.setAside {
            print(
                "Đã giữ bản của hub cho thao tác của bản sao \(r.replica): \(r.setAside) thao tác nhận trước đó (từ tệp thao tác hoặc gói tin, từ số \(r.replica):\(r.from)) "
                    + "mà hub không có hoặc có khác được để riêng, không áp dụng; tệp cũ giữ tại \(r.oldFile). Nếu đó là công việc thật của một máy, máy ấy (hoặc máy thay thế nó) gửi lại khi tự đồng bộ."
            )
        }
        print(
            "Đồng bộ xong với \(raw): đã gửi \(summary.sent), đã nhận \(summary.received), xung đột \(summary.conflicts) "
                + "(\(summary.roundTrips) lượt, \(summary.retries) lần thử lại); hai bên giữ cùng dữ liệu.")
        if let advice = summary.versionAdvice { print(advice) }
    }
}

extension SyncCommand {
    /// http: URLSession, as before. https: the pinned transport, and only with a pin: an https
    /// hub whose certificate this replica cannot check is refused, never trusted blindly.
    static func transport(url: URL, raw: String, pin: String?, timeout: Double) throws -> any SyncTransport {
        guard url.scheme?.lowercased() == "https" else { return URLSessionTransport(hubURL: url, timeout: timeout) }
        guard let pin else {
            throw SyncError(
                .invalidInput,
                "Địa chỉ hub «\(raw)» dùng https nhưng tệp ghi danh của bản sao này không ghim chứng chỉ của hub (trường «hub_tls_sha256»): không kết nối. "
                    + "Hãy ghi danh lại ở hub với «hub enrol --url \(raw) --tls-cert TỆP-CHỨNG-CHỈ» rồi chạy «unit-client rehome --enrolment TỆP-MỚI».",
                field: "hub_tls_sha256", value: raw)
        }
        return PinnedTransport(hubURL: url, pin: pin, timeout: timeout)
    }
}

/// Any `Encodable` as one value.
struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}
