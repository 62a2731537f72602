import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

/// What `hub status` reports.
struct HubStatusReport: Codable {
    var db: String
    var versionVector: VersionVector
    var ops: Int
    var pending: Int
    var conflicts: Int
    var units: [String: Int]
    var replicas: [Enrolment]
    /// Forks met and not closed (two different ops under one dot).
    var forks: [ForkRecord]
    /// Ops of a newer program's kinds or fields, kept and relayed until the hub is upgraded.
    var waitingForUpgrade: Int

    enum CodingKeys: String, CodingKey {
        case db, ops, pending, conflicts, units, replicas, forks
        case waitingForUpgrade = "waiting_for_upgrade"
        case versionVector = "version_vector"
    }
}

struct HubStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Các bản sao đã ghi danh, đơn vị, lần đồng bộ cuối, véc-tơ phiên bản, số xung đột đang mở.")
    @OptionGroup var store: HubStoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let s = try store.open()
        let replicas = try s.enrolments()
        var units: [String: Int] = [:]
        for r in replicas where r.revokedAt == nil { units[r.unit, default: 0] += 1 }
        let report = HubStatusReport(
            db: store.path, versionVector: try s.versionVector(), ops: try s.opCount(), pending: try s.pendingCount(),
            conflicts: try s.conflicts().count, units: units, replicas: replicas, forks: try s.forks(),
            waitingForUpgrade: try s.unknownOpCount())
        if output.json {
            try printJSON(report)
            return
        }
        print("Cơ sở dữ liệu:  \(report.db)")
        print("Véc-tơ:         \(report.versionVector)")
        print("Thao tác:       \(report.ops) (chờ khoảng trống: \(report.pending))")
        print("Xung đột mở:    \(report.conflicts)")
        if report.waitingForUpgrade > 0 {
            print(
                "Chờ nâng cấp:   \(report.waitingForUpgrade) thao tác của phiên bản chương trình mới hơn (đã nhận, đã kiểm tra, được chuyển tiếp; chưa áp dụng): hãy nâng cấp chương trình hub."
            )
        }
        print("Đơn vị:         " + units.keys.sorted().map { "\($0) (\(units[$0] ?? 0) bản sao)" }.joined(separator: ", "))
        print("Bản sao:")
        if replicas.isEmpty { print("  (chưa có bản sao nào được ghi danh)") }
        for r in replicas {
            let state = r.revokedAt.map { "đã thu hồi \($0)" } ?? "hoạt động"
            print("  \(r.replica)  \(r.unit)  \(state)  đồng bộ cuối: \(r.lastSync ?? "chưa") (\(r.syncs) lần)  véc-tơ: \(r.lastVersionVector)")
            print("            máy: \(r.machineKey.map { "khóa \($0), gắn lúc \(r.boundAt ?? "?")" } ?? "chưa gắn (chưa đồng bộ lần nào)")")
        }
        printForks(report.forks)
    }
}
