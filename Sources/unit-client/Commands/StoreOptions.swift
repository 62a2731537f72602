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
