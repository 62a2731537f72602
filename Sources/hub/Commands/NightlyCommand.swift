import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

struct HubNightlyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nightly",
        abstract: "Sao lưu trực tuyến cơ sở dữ liệu hub (SQLite backup API), xoay vòng bản sao lưu, kiểm tra toàn vẹn, in một dòng tóm tắt.",
        discussion: """
            Chạy được trong khi «hub serve» đang phục vụ. Bản sao lưu vừa tạo được kiểm tra như «hub verify» (integrity_check,
            băm lại nhật ký thao tác, chữ ký, dựng lại và so các bảng dẫn xuất). Mã thoát khác 0 (7 nếu cơ sở dữ liệu hỏng, nêu
            chỗ hỏng) nếu bản sao lưu không toàn vẹn; khi đó bản sao lưu này bị bỏ, các bản trước được giữ nguyên.
            """)
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
        // The copy is the database as it was at the backup: checked as `hub verify` checks, it
        // vouches for both. A damaged copy never enters the rotation (older good ones stay).
        let copy = try ReplicaStore.open(path: partial)
        let check = try copy.verify(full: false, derived: true, unshared: true)
        try copy.close()
        guard check.ok else {
            for p in check.problems { FileHandle.standardError.write(Data("  - \(p.kind.label) — \(p.location): \(p.message)\n".utf8)) }
            for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: partial + suffix) }
            throw SyncError(
                .corrupt,
                "Cơ sở dữ liệu hub «\(store.path)» bị hỏng (kiểm tra trên bản sao lưu vừa tạo): \(check.summary). Bản sao lưu này bị bỏ, các bản trước trong «\(folder)» được giữ nguyên; hãy dừng hub serve rồi chạy «hub repair --db \(store.path)», hoặc khôi phục bản sao lưu tốt gần nhất.",
                field: "db", value: store.path)
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
            "nightly: sao lưu \(target) (\(size / 1024) KiB), integrity_check ok, kiểm tra tốt (\(check.chains) chuỗi, \(check.signatures) chữ ký, \(check.records ?? 0) bản ghi), giữ \(min(all.count, keep)) bản, xóa \(removed.count); "
                + "\(try s.opCount()) thao tác, \(replicas.filter { $0.revokedAt == nil }.count) bản sao hoạt động, "
                + "\(try s.conflicts().count) xung đột mở; \(secs) s")
    }
}
