import ArgumentParser
import Foundation
import SyncCore

/// The option every command shares: where the replica lives.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Tệp cơ sở dữ liệu của bản sao (mặc định: $UNIT_DB, nếu không có thì ./unit.sqlite).")
    var db: String?

    var path: String {
        if let db, !db.isEmpty { return db }
        if let env = ProcessInfo.processInfo.environment["UNIT_DB"], !env.isEmpty { return env }
        return "unit.sqlite"
    }

    /// Opens an existing, initialised replica.
    func open() throws -> ReplicaStore {
        let store = try ReplicaStore.open(path: path)
        _ = try store.requireIdentity()
        return store
    }
}

/// `--json` for read commands.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "In kết quả dạng JSON (cho máy đọc).")
    var json = false
}

/// Runs a command body; a `SyncError` becomes its Vietnamese message on stderr and its exit code.
func reportingErrorsAsync<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let e as SyncError {
        FileHandle.standardError.write(Data("Lỗi: \(e.message)\n".utf8))
        throw ExitCode(e.exitCode)
    }
}

func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as SyncError {
        FileHandle.standardError.write(Data("Lỗi: \(e.message)\n".utf8))
        throw ExitCode(e.exitCode)
    }
}

/// Accepts a status in Vietnamese with or without diacritics, or its code.
func parseTaskStatus(_ raw: String) throws -> String {
    guard let status = TaskStatus(userInput: raw) else { throw SyncError.invalid("status", raw, "chỉ nhận \(TaskStatus.accepted).") }
    return status.rawValue
}
