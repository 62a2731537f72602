import ArgumentParser
import CommandSupport
import Foundation
import Hummingbird
import Logging
import SyncCore

struct HubServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Chạy máy chủ đồng bộ HTTP (GET /health, POST /v1/sync); dừng êm khi nhận SIGTERM/SIGINT.",
        discussion: """
            Với --port 0 hệ thống chọn cổng trống; dòng «listening on HOST:PORT» trên stdout cho biết cổng thật.
            Khi khởi động, hub kiểm tra cơ sở dữ liệu (PRAGMA quick_check, băm lại nhật ký thao tác của từng bản sao và so với
            đầu chuỗi, chữ ký đã lưu); nếu hỏng thì không phục vụ (mã thoát 7): hãy chạy «hub repair» hoặc khôi phục bản sao lưu
            đêm. Với --allow-degraded hub vẫn chạy nhưng GET /health và POST /v1/sync trả 503 để các bản sao thử lại sau.
            """)
    @OptionGroup var store: HubStoreOptions
    @Option(help: "Địa chỉ lắng nghe.")
    var host = "127.0.0.1"
    @Option(help: "Cổng (0: tự chọn; mặc định: 8080).", transform: Count.readingInt("port"))
    var port = 8080
    @Option(help: "Mức nhật ký: trace, debug, info, notice, warning, error.")
    var logLevel = "info"
    @Flag(help: "Vẫn chạy khi cơ sở dữ liệu hỏng, ở chế độ suy giảm: /health và /v1/sync trả 503 (để chẩn đoán; các bản sao thử lại sau).")
    var allowDegraded = false

    func validate() throws {
        guard (0...65535).contains(port) else {
            throw SyncError(.invalidInput, "--port «\(port)» phải trong khoảng 0–65535.", field: "port", value: String(port))
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw SyncError(.invalidInput, "--log-level «\(logLevel)» không hợp lệ.", field: "log_level", value: logLevel)
        }
    }

    func run() async throws {
        let s = try store.open(concurrentReaders: true)
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "cchc.hub")
        // Never serve a damaged or cut log as if it were whole.
        let check = try s.verify(derived: false, everySignature: false)
        var degraded: String?
        if check.ok {
            logger.info(
                "store.verified",
                metadata: [
                    "ops": .stringConvertible(check.ops), "chains": .stringConvertible(check.chains),
                    "signatures": .stringConvertible(check.signatures), "ms": .stringConvertible(Int(check.seconds * 1000)),
                ])
        } else {
            for p in check.problems { FileHandle.standardError.write(Data("  - \(p.kind.label) — \(p.location): \(p.message)\n".utf8)) }
            let advice = "hãy dừng hub, chạy «hub repair --db \(store.path)» hoặc khôi phục bản sao lưu đêm (hub nightly)"
            guard allowDegraded else {
                throw SyncError(
                    .corrupt,
                    "Hub không khởi động: cơ sở dữ liệu «\(store.path)» bị hỏng — \(check.summary). Không phục vụ một nhật ký thao tác bị hỏng hay cắt cụt như thể đầy đủ; \(advice). (--allow-degraded: chạy ở chế độ suy giảm, mọi yêu cầu đồng bộ trả 503.)",
                    field: "db", value: store.path)
            }
            degraded = "\(check.summary); \(advice)"
            logger.error(
                "store.damaged", metadata: ["problems": .stringConvertible(check.problems.count + check.unlisted), "summary": .string(check.summary)])
        }
        let host = self.host
        let app = HubServer.buildApplication(store: s, host: host, port: port, logger: logger, degraded: degraded) { bound in
            // Unbuffered, so a supervisor or test reading stdout sees the port at once.
            FileHandle.standardOutput.write(Data("listening on \(host):\(bound)\n".utf8))
            logger.info("server.listening", metadata: ["host": .string(host), "port": .stringConvertible(bound), "db": .string(s.path)])
        }
        do {
            try await app.runService()
        } catch {
            throw SyncError(.unavailable, "Máy chủ dừng vì lỗi: \(error)", field: "port", value: String(port), cause: error)
        }
        logger.info("server.stopped")
    }
}
