import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

/// What `status` reports.
struct StatusReport: Codable {
    var replicaID: String
    var unit: String
    var db: String
    var versionVector: VersionVector
    var ops: Int
    var pending: Int
    var conflicts: Int
    var unacknowledged: UInt64
    var hubURL: String?
    var lastSync: String?
    var machineKey: String?
    /// Ops of a newer program's kinds or fields, kept until this machine's program is upgraded.
    var waitingForUpgrade: Int
    /// Forks met and not closed: two different ops under one dot (docs/SYNC-CONTRACT.md).
    var forks: [ForkRecord]

    enum CodingKeys: String, CodingKey {
        case replicaID = "replica_id"
        case machineKey = "machine_key"
        case waitingForUpgrade = "waiting_for_upgrade"
        case unit, db, ops, pending, conflicts, unacknowledged, forks
        case versionVector = "version_vector"
        case hubURL = "hub_url"
        case lastSync = "last_sync"
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Mã bản sao, đơn vị, véc-tơ phiên bản, số thay đổi chưa được hub xác nhận.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let s = try store.open()
        let me = try s.requireIdentity()
        let hub = try s.peer("hub")
        let r = StatusReport(
            replicaID: me.replica.rawValue, unit: me.unit, db: store.path, versionVector: try s.versionVector(), ops: try s.opCount(),
            pending: try s.pendingCount(), conflicts: try s.conflicts().count,
            unacknowledged: try s.unacknowledgedCount(acked: hub?.acked ?? VersionVector()), hubURL: hub?.url, lastSync: hub?.lastSync,
            machineKey: try s.machineKey()?.fingerprint, waitingForUpgrade: try s.unknownOpCount(), forks: try s.forks())
        if output.json { return try printJSON(r) }
        print("Bản sao:        \(r.replicaID)")
        print("Đơn vị:         \(r.unit) (\(s.catalog.unit(r.unit)?.name ?? ""))")
        print("Cơ sở dữ liệu:  \(r.db)")
        print("Véc-tơ:         \(r.versionVector)")
        print("Thao tác:       \(r.ops) (chờ khoảng trống: \(r.pending))")
        print("Xung đột:       \(r.conflicts)")
        print("Chưa gửi hub:   \(r.unacknowledged)")
        print("Hub:            \(r.hubURL ?? "chưa cấu hình")\(r.lastSync.map { ", đồng bộ lần cuối \($0)" } ?? "")")
        print("Khóa ký:        \(r.machineKey ?? "chưa có (tạo ở lần ghi đầu tiên)")")
        if r.waitingForUpgrade > 0 {
            print(
                "Chờ nâng cấp:   \(r.waitingForUpgrade) thao tác của phiên bản chương trình mới hơn (đã nhận, đã kiểm tra, được chuyển tiếp; chưa áp dụng): hãy nâng cấp chương trình trên máy này."
            )
        }
        printForks(r.forks)
    }
}
