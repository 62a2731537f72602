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

    /// Opens an initialised hub database; the server asks for `concurrentReaders`.
    func open(concurrentReaders: Bool = false) throws -> ReplicaStore {
        let store = try ReplicaStore.open(path: path, concurrentReaders: concurrentReaders)
        guard try store.isInitialised() else {
            throw SyncError(.database, "Cơ sở dữ liệu «\(path)» chưa được khởi tạo; hãy chạy «hub init».", field: "db", value: path)
        }
        return store
    }
}
