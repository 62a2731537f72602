import ArgumentParser
import CommandSupport
import Foundation
import Hummingbird
import Logging
import SyncCore

struct HubServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Chạy máy chủ đồng bộ HTTP (GET /health, POST /v1/sync); dừng êm khi nhận SIGTERM/SIGINT.",
        discussion: "Với --port 0 hệ thống chọn cổng trống; dòng «listening on HOST:PORT» trên stdout cho biết cổng thật.")
    @OptionGroup var store: HubStoreOptions
    @Option(help: "Địa chỉ lắng nghe.")
    var host = "127.0.0.1"
    @Option(help: "Cổng (0: tự chọn; mặc định: 8080).", transform: Count.readingInt("port"))
    var port = 8080
    @Option(help: "Mức nhật ký: trace, debug, info, notice, warning, error.")
    var logLevel = "info"

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
        let host = self.host
        let app = HubServer.buildApplication(store: s, host: host, port: port, logger: logger) { bound in
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
