import ArgumentParser
import Foundation
import SyncCore

/// Where the hub's database lives.
struct HubStoreOptions: ParsableArguments {
    @Option(name: .long, help: "Tệp cơ sở dữ liệu của hub (mặc định: $HUB_DB, nếu không có thì ./hub.sqlite).")
    var db: String?

    var path: String {
        if let db, !db.isEmpty { return db }
        if let env = ProcessInfo.processInfo.environment["HUB_DB"], !env.isEmpty { return env }
        return "hub.sqlite"
    }

    /// Opens an initialised hub database.
    func open() throws -> ReplicaStore {
        let store = try ReplicaStore.open(path: path)
        guard try store.isInitialised() else {
            throw SyncError(.database, "Cơ sở dữ liệu «\(path)» chưa được khởi tạo; hãy chạy «hub init».", field: "db", value: path)
        }
        return store
    }
}

/// Runs a command body; a `SyncError` becomes its Vietnamese message on stderr and its exit code.
func hubReportingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let e as SyncError {
        FileHandle.standardError.write(Data("Lỗi: \(e.message)\n".utf8))
        throw ExitCode(e.exitCode)
    }
}

struct HubInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Khởi tạo cơ sở dữ liệu của hub với dữ liệu Kế hoạch 2026.")
    @OptionGroup var store: HubStoreOptions

    func run() async throws {
        try await hubReportingErrors {
            let s = try ReplicaStore.open(path: store.path, create: true)
            try s.initialise(identity: nil)
            print("Đã khởi tạo hub tại \(store.path).")
        }
    }
}

struct HubDumpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump", abstract: "In trạng thái chuẩn tắc (giống «unit-client dump») để so sánh các bản sao.")
    @OptionGroup var store: HubStoreOptions

    func run() async throws {
        try await hubReportingErrors {
            let data = try store.open().dump().json()
            FileHandle.standardOutput.write(data)
        }
    }
}
