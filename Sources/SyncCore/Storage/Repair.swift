import Foundation
import GRDB

/// What `repair` did (docs/OPERATIONS.md, "Kiểm tra và sửa chữa").
public struct RepairReport: Codable, Sendable, Equatable {
    /// One origin whose damaged log was cut.
    public struct Cut: Codable, Sendable, Equatable {
        public var origin: ReplicaID
        /// The last counter kept (verified); the ops after it were left out.
        public var kept: UInt64
        public var dropped: UInt64
        /// Of this machine's own ops left out, those the hub had not acknowledged: lost.
        public var unsent: UInt64?
    }

    public var db: String
    /// Whether the file was replaced (false: nothing to repair).
    public var repaired: Bool
    /// The check before, and of the rebuilt store.
    public var before: VerifyReport
    public var after: VerifyReport?
    public var cuts: [Cut]
    /// Where the damaged file was kept.
    public var oldFile: String?
    public var summary: String

    enum CodingKeys: String, CodingKey {
        case db, repaired, before, after, cuts, summary
        case oldFile = "old_file"
    }
}

extension ReplicaStore {
    /// Repairs the store at `path`: the typed tables are derived, so the store is rebuilt from
    /// its verified op log into a new file (an origin whose log is damaged is cut at its last
    /// verified head, the rest received again at the next sync), the rebuilt store is checked,
    /// and it takes the old file's place, the old one kept as `<path>.truoc-sua-chua-<now>`.
    ///
    /// Nothing else may have the file open meanwhile: the repair holds SQLite's exclusive lock
    /// from start to end, and refuses (code `unavailable`) when another process — `hub serve`,
    /// a sync — holds the file past the busy timeout. A clean store is left as it is.
    ///
    /// When this machine's own log is damaged, its ops beyond the cut that the hub has not
    /// acknowledged cannot be received again: the repair refuses (code `conflict`) unless
    /// `acceptLoss`.
    public static func repair(
        path: String, full: Bool = false, acceptLoss: Bool = false, catalog: Catalog = .standard, now: Int64 = Int64(Date().timeIntervalSince1970)
    ) throws -> RepairReport {
        let fm = FileManager.default
        // This run's files are named by the time, with a number after it when a repair in the same
        // second kept its old file there (a second repair at once must not be refused for a name).
        func names(_ stamp: String) -> [String] {
            [path + ".sua-chua-\(stamp).ban-chup", path + ".sua-chua-\(stamp)", path + ".truoc-sua-chua-\(stamp)"]
        }
        var stamp = "\(now)"
        var n = 1
        while n < 1000, names(stamp).contains(where: { fm.fileExists(atPath: $0) }) {
            n += 1
            stamp = "\(now)-\(n)"
        }
        if let taken = names(stamp).first(where: { fm.fileExists(atPath: $0) }) {
            throw SyncError(.conflict, "Tệp «\(taken)» đã tồn tại; hãy chờ một giây rồi chạy lại.", field: "db", value: taken)
        }
        let snapshotPath = names(stamp)[0]
        let rebuiltPath = names(stamp)[1]
        let backupPath = names(stamp)[2]
        // Checks the file is a store (and migrates it, as any command would), then lets it go:
        // the lock below must be the only connection.
        try? ReplicaStore.open(path: path, catalog: catalog).close()
        var lock: DatabaseQueue? = try exclusiveLock(path)
        defer { try? lock?.close() }
        defer {
            removeDatabaseFiles(snapshotPath)
            removeDatabaseFiles(rebuiltPath)
        }
        // A consistent copy, made under the lock: the rebuild reads it, never the file in use.
        do {
            let copy = try DatabaseQueue(path: snapshotPath)
            try lock!.backup(to: copy)
            try copy.close()
        } catch {
            throw SyncError(
                .database, "Không sao chép được «\(path)» để sửa: \(describe(error)). Hãy khôi phục bản sao lưu gần nhất.", field: "db", value: path,
                cause: error)
        }
        let snapshot = try ReplicaStore.open(path: snapshotPath, catalog: catalog)
        var snapshotOpen = true
        defer { if snapshotOpen { try? snapshot.close() } }
        var before = try snapshot.verify(full: full, derived: true, unshared: true)
        before.db = path
        if before.ok {
            return RepairReport(
                db: path, repaired: false, before: before, after: nil, cuts: [], oldFile: nil,
                summary: "Sửa chữa: không có gì cần sửa — \(before.summary); tệp giữ nguyên.")
        }
        var stop: [ReplicaID: UInt64] = [:]
        for (name, kept) in before.cuts {
            guard let o = ReplicaID(name) else { continue }
            stop[o] = kept
        }
        let vv = try snapshot.versionVector()
        let me = try snapshot.identity()?.replica
        let acked = try snapshot.peer("hub")?.acked
        var cuts: [RepairReport.Cut] = []
        for (o, kept) in stop.sorted(by: { $0.key < $1.key }) where vv[o] > kept {
            var cut = RepairReport.Cut(origin: o, kept: kept, dropped: vv[o] - kept)
            if o == me { cut.unsent = vv[o] - max(kept, min(vv[o], acked?[o] ?? 0)) }
            cuts.append(cut)
        }
        if !acceptLoss, let own = cuts.first(where: { ($0.unsent ?? 0) > 0 }), let unsent = own.unsent {
            throw SyncError(
                .conflict,
                "Sửa chữa sẽ bỏ \(own.dropped) thao tác của chính máy này sau số \(own.kept) (nhật ký thao tác hỏng từ đó), trong đó \(unsent) thao tác hub chưa nhận sẽ mất hẳn. Nếu có bản sao lưu gần đây, hãy khôi phục nó; nếu chấp nhận mất, chạy lại với --accept-loss. Tệp giữ nguyên.",
                field: "accept_loss", value: "\(own.origin):\(own.kept)")
        }
        let rebuilt: ReplicaStore
        do {
            rebuilt = try snapshot.rebuild(into: rebuiltPath, stop: stop)
        } catch let e as SyncError where e.value == "SQLITE_FULL" || e.value == "SQLITE_IOERR" {
            // The disk's fault, not the log's: named as such (exit 5), not as damage.
            throw SyncError(.database, "Không sửa được «\(path)»: \(e.message) Tệp giữ nguyên.", field: "db", value: e.value, cause: e)
        } catch {
            throw SyncError(
                .corrupt,
                "Không sửa được «\(path)»: dựng lại từ nhật ký thao tác thất bại (\(describe(error))). Tệp giữ nguyên; hãy khôi phục bản sao lưu gần nhất.",
                field: "db", value: path, cause: error)
        }
        var rebuiltOpen = true
        defer { if rebuiltOpen { try? rebuilt.close() } }
        var after = try rebuilt.verify(full: full, derived: true, unshared: true)
        after.db = path
        guard after.ok else {
            throw SyncError(
                .corrupt,
                "Không sửa được «\(path)»: bản dựng lại vẫn chưa sạch (\(after.summary)). Tệp giữ nguyên; hãy khôi phục bản sao lưu gần nhất.",
                field: "db", value: path)
        }
        try rebuilt.close()
        rebuiltOpen = false
        try snapshot.close()
        snapshotOpen = false
        // The lock goes only now, and the rebuilt file takes the old one's place at once.
        try lock?.close()
        lock = nil
        try replace(path, with: rebuiltPath, keepingOldAs: backupPath)
        var parts = ["Sửa chữa: đã dựng lại «\(path)» từ nhật ký thao tác (\(before.problems.count + before.unlisted) vấn đề trước khi sửa)"]
        for c in cuts {
            if let unsent = c.unsent {
                var s = "bỏ \(c.dropped) thao tác của chính máy này (\(c.origin)) sau số \(c.kept) (nhật ký hỏng từ đó)"
                if c.dropped > unsent { s += ", \(c.dropped - unsent) thao tác hub đã có sẽ nhận lại khi chạy «unit-client sync»" }
                if unsent > 0 { s += ", \(unsent) thao tác hub chưa nhận bị mất (--accept-loss)" }
                parts.append(s)
            } else {
                parts.append("bỏ \(c.dropped) thao tác của bản sao \(c.origin) sau số \(c.kept) (nhật ký hỏng từ đó), sẽ nhận lại ở lần đồng bộ tới")
            }
        }
        parts.append("kiểm tra lại: tốt — \(after.ops) thao tác, \(after.chains) chuỗi, \(after.signatures) chữ ký, \(after.records ?? 0) bản ghi")
        parts.append("tệp cũ giữ tại «\(backupPath)»")
        return RepairReport(
            db: path, repaired: true, before: before, after: after, cuts: cuts, oldFile: backupPath, summary: parts.joined(separator: "; ") + ".")
    }

    /// A connection holding SQLite's exclusive lock on `path`: in WAL mode every other
    /// connection holds a shared lock while it is open, so this waits (the busy timeout) for no
    /// other process to have the file open, and keeps every other out until it is closed.
    static func exclusiveLock(_ path: String) throws -> DatabaseQueue {
        var config = Configuration()
        config.busyMode = .timeout(TimeInterval(busyTimeoutSeconds))
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE") }
        do {
            let q = try DatabaseQueue(path: path, configuration: config)
            try q.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                try db.execute(sql: "COMMIT")
            }
            return q
        } catch {
            let mapped = map(error)
            guard mapped.code == .unavailable else { throw mapped }
            throw SyncError(
                .unavailable,
                "Không sửa được «\(path)»: tệp đang được một tiến trình khác mở (hub serve, một lần đồng bộ hay lệnh khác) quá \(busyTimeoutSeconds) giây. Hãy dừng nó (ví dụ «systemctl stop cchc-hub») rồi chạy lại.",
                field: "db", value: path, cause: error)
        }
    }
}
