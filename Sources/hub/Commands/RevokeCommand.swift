import ArgumentParser
import Foundation
import SyncCore

struct HubRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Thu hồi một bản sao: từ chối mọi yêu cầu và gói tin sau này; dữ liệu đã ghi vẫn giữ.")
    @OptionGroup var store: HubStoreOptions
    @Argument(help: "Mã bản sao.")
    var replica: String

    func run() async throws {
        let id = try ReplicaID.parse(replica)
        let e = try store.open().revoke(id)
        print("Đã thu hồi bản sao \(e.replica) (đơn vị \(e.unit)) lúc \(e.revokedAt ?? "?").")
    }
}
