import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

struct HubNightlyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nightly",
        abstract: "Sao lưu trực tuyến cơ sở dữ liệu hub (SQLite backup API), xoay vòng bản sao lưu, kiểm tra toàn vẹn, in một dòng tóm tắt.",
        discussion: "Chạy được trong khi «hub serve» đang phục vụ. Mã thoát khác 0 nếu bản sao lưu không toàn vẹn.")
    @OptionGroup var store: HubStoreOptions
    @Option(help: "Thư mục chứa bản sao lưu (mặc định: backups cạnh tệp cơ sở dữ liệu).")
    var dir: String?
    @Option(help: "Số bản sao lưu giữ lại (mặc định: 7).", transform: Count.readingInt("keep"))
    var keep = 7

    func validate() throws {
        guard keep >= 1 else { throw SyncError(.invalidInput, "--keep «\(keep)» phải ≥ 1.", field: "keep", value: String(keep)) }
    }

    func run() async throws {
        let started = Date()
        let s = try store.open()
        let folder = dir ?? URL(fileURLWithPath: store.path).deletingLastPathComponent().appendingPathComponent("backups").path
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw SyncError(.invalidInput, "Không tạo được thư mục «\(folder)».", field: "dir", value: folder, cause: error)
        }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let name = "hub-\(f.string(from: started)).sqlite"
        let target = (folder as NSString).appendingPathComponent(name)
        let partial = target + ".part"
        try? fm.removeItem(atPath: partial)
        try s.backup(to: partial)
        let integrity = try ReplicaStore.integrityCheck(path: partial)
        guard integrity == "ok" else {
            throw SyncError(.database, "Bản sao lưu «\(partial)» không toàn vẹn: \(integrity)", field: "integrity_check", value: integrity)
        }
        try? fm.removeItem(atPath: target)
        do {
            try fm.moveItem(atPath: partial, toPath: target)
        } catch {
            throw SyncError(.database, "Không đổi tên được «\(partial)».", field: "dir", value: folder, cause: error)
        }
        let all = ((try? fm.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasPrefix("hub-") && $0.hasSuffix(".sqlite") }.sorted()
        let removed = all.dropLast(keep)
        for old in removed { try? fm.removeItem(atPath: (folder as NSString).appendingPathComponent(old)) }
        let size = ((try? fm.attributesOfItem(atPath: target)[.size]) as? NSNumber)?.intValue ?? 0
        let replicas = try s.enrolments()
        let secs = String(format: "%.1f", Date().timeIntervalSince(started))
        print(
            "nightly: sao lưu \(target) (\(size / 1024) KiB), integrity_check ok, giữ \(min(all.count, keep)) bản, xóa \(removed.count); "
                + "\(try s.opCount()) thao tác, \(replicas.filter { $0.revokedAt == nil }.count) bản sao hoạt động, "
                + "\(try s.conflicts().count) xung đột mở; \(secs) s")
    }
}
