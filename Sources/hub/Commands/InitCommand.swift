import ArgumentParser
import Foundation
import SyncCore

struct HubInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Khởi tạo cơ sở dữ liệu của hub với dữ liệu Kế hoạch 2026.")
    @OptionGroup var store: HubStoreOptions

    func run() async throws {
        let s = try ReplicaStore.open(path: store.path, create: true)
        try s.initialise(identity: nil)
        print("Đã khởi tạo hub tại \(store.path).")
    }
}
