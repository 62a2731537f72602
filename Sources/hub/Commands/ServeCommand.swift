import ArgumentParser
import CommandSupport
import Foundation
import Hummingbird
import Logging
import NIOSSL
import SyncCore

struct HubServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Chạy máy chủ đồng bộ HTTP (GET /health, POST /v1/sync); dừng êm khi nhận SIGTERM/SIGINT.",
        discussion: """
            Với --port 0 hệ thống chọn cổng trống; dòng «listening on HOST:PORT» trên stdout cho biết cổng thật.
            Khi khởi động, hub kiểm tra cơ sở dữ liệu (PRAGMA quick_check, băm lại nhật ký thao tác của từng bản sao và so với
            đầu chuỗi, chữ ký đã lưu); nếu hỏng thì không phục vụ (mã thoát 7): hãy chạy «hub repair» hoặc khôi phục bản sao lưu
            đêm. Với --allow-degraded hub vẫn chạy nhưng GET /health và POST /v1/sync trả 503 để các bản sao thử lại sau.
            Với --tls-cert và --tls-key hub phục vụ https; ghi danh bản sao bằng «hub enrol --url https://… --tls-cert» cùng tệp
            chứng chỉ để ghim dấu vân tay của nó. Kết nối im lặng hoặc gửi tiêu đề dở dang bị đóng sau --idle-timeout giây; quá
            --max-connections kết nối thì kết nối cũ nhất đang rảnh bị đóng để nhường chỗ (hết chỗ: 503); --concurrent-syncs
            giới hạn số yêu cầu đồng bộ được đọc, giải mã và áp dụng cùng lúc (để bộ nhớ có giới hạn).
            """)
    @OptionGroup var store: HubStoreOptions
    @Option(help: "Địa chỉ lắng nghe.")
    var host = "127.0.0.1"
    @Option(help: "Cổng (0: tự chọn; mặc định: 8080).", transform: Count.readingInt("port"))
    var port = 8080
    @Option(help: "Mức nhật ký: trace, debug, info, notice, warning, error.")
    var logLevel = "info"
    @Option(help: "Tệp chứng chỉ PEM để phục vụ https (cùng --tls-key); chứng chỉ đầu tiên trong tệp là của hub.")
    var tlsCert: String?
    @Option(help: "Tệp khóa riêng PEM của chứng chỉ (cùng --tls-cert).")
    var tlsKey: String?
    @Option(
        help: "Số giây một kết nối được im lặng hoặc gửi dở tiêu đề trước khi bị đóng (mặc định: 30).",
        transform: Double.reading("idle_timeout"))
    var idleTimeout = 30.0
    @Option(
        help: "Số kết nối mở tối đa (mặc định: 1000, và không quá giới hạn tệp mở của tiến trình trừ 128).",
        transform: Count.readingInt("max_connections"))
    var maxConnections = 1000
    @Option(
        help: "Số yêu cầu đồng bộ được đọc, giải mã và áp dụng cùng lúc (mặc định: 1; mỗi trang tối đa cần khoảng 190 MB bộ nhớ).",
        transform: Count.readingInt("concurrent_syncs"))
    var concurrentSyncs = 1
    @Flag(help: "Vẫn chạy khi cơ sở dữ liệu hỏng, ở chế độ suy giảm: /health và /v1/sync trả 503 (để chẩn đoán; các bản sao thử lại sau).")
    var allowDegraded = false

    func validate() throws {
        guard (0...65535).contains(port) else {
            throw SyncError(.invalidInput, "--port «\(port)» phải trong khoảng 0–65535.", field: "port", value: String(port))
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw SyncError(.invalidInput, "--log-level «\(logLevel)» không hợp lệ.", field: "log_level", value: logLevel)
        }
        guard idleTimeout >= 1 && idleTimeout <= 3600 else {
            throw SyncError.invalid("idle_timeout", String(idleTimeout), "cần số giây trong khoảng 1–3600.")
        }
        guard (1...1_000_000).contains(maxConnections) else {
            throw SyncError.invalid("max_connections", String(maxConnections), "cần trong khoảng 1–1000000.")
        }
        guard (1...64).contains(concurrentSyncs) else {
            throw SyncError.invalid("concurrent_syncs", String(concurrentSyncs), "cần trong khoảng 1–64.")
        }
        switch (tlsCert, tlsKey) {
        case (.some, nil): throw SyncError(.invalidInput, "Thiếu «--tls-key»: --tls-cert cần tệp khóa riêng của chứng chỉ.", field: "tls_key")
        case (nil, .some): throw SyncError(.invalidInput, "Thiếu «--tls-cert»: --tls-key cần tệp chứng chỉ đi kèm.", field: "tls_cert")
        default: break
        }
    }

    /// The server's TLS configuration from the PEM files, checked now (certificate, key, that
    /// they belong together) so that a bad file stops `hub serve` before it listens.
    static func tlsConfiguration(cert: String, key: String) throws -> TLSConfiguration {
        _ = try UserFile.read(cert, field: "tls_cert", what: "tệp chứng chỉ")
        _ = try UserFile.read(key, field: "tls_key", what: "tệp khóa riêng")
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(cert)
        } catch {
            throw SyncError.invalid("tls_cert", cert, "không đọc được chứng chỉ PEM (\(error)).")
        }
        guard !chain.isEmpty else { throw SyncError.invalid("tls_cert", cert, "tệp không có chứng chỉ PEM nào.") }
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        } catch {
            throw SyncError.invalid("tls_key", key, "không đọc được khóa riêng PEM (\(error)).")
        }
        var config = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        config.minimumTLSVersion = .tlsv12
        do {
            _ = try NIOSSLContext(configuration: config)
        } catch {
            throw SyncError.invalid("tls_key", key, "khóa riêng không khớp với chứng chỉ «\(cert)» (\(error)).")
        }
        return config
    }

    /// `--max-connections`, kept below the process's open-file limit (each connection is a file
    /// descriptor; 128 stay for the database, the listener and the runtime).
    static func effectiveMaxConnections(_ asked: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < rlim_t(Int32.max) else { return asked }
        return max(1, min(asked, Int(limit.rlim_cur) - 128))
    }

    func run() async throws {
        let tls = try tlsCert.map { try Self.tlsConfiguration(cert: $0, key: tlsKey ?? "") }
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
        let limits = HubServer.Limits(
            idleTimeout: idleTimeout, maxConnections: Self.effectiveMaxConnections(maxConnections), concurrentSyncs: concurrentSyncs)
        if limits.maxConnections < maxConnections {
            logger.warning(
                "server.max_connections_capped",
                metadata: ["asked": .stringConvertible(maxConnections), "used": .stringConvertible(limits.maxConnections), "reason": "RLIMIT_NOFILE"])
        }
        let scheme = tls == nil ? "http" : "https"
        let app = try HubServer.buildApplication(store: s, host: host, port: port, logger: logger, degraded: degraded, limits: limits, tls: tls) {
            bound in
            // Unbuffered, so a supervisor or test reading stdout sees the port at once.
            FileHandle.standardOutput.write(Data("listening on \(host):\(bound)\n".utf8))
            logger.info(
                "server.listening",
                metadata: [
                    "host": .string(host), "port": .stringConvertible(bound), "db": .string(s.path), "scheme": .string(scheme),
                    "idle_timeout": .stringConvertible(limits.idleTimeout), "max_connections": .stringConvertible(limits.maxConnections),
                    "concurrent_syncs": .stringConvertible(limits.concurrentSyncs),
                ])
        }
        do {
            try await app.runService()
        } catch {
            throw SyncError(.unavailable, "Máy chủ dừng vì lỗi: \(error)", field: "port", value: String(port), cause: error)
        }
        logger.info("server.stopped")
    }
}
