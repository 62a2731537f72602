import Foundation
import Simulation
import SyncCore
import Testing

/// Injected I/O errors (`FaultyDisk`, a SQLite VFS over the system's): a write or a sync of the
/// database, its write-ahead log or its journal fails, at every position an operation reaches in
/// turn, placed by counting calls, not by timing. Whatever the position:
/// - an operation that reports success has stored everything, and still has after the process
///   ends and the file is opened again;
/// - an operation that fails names `db=SQLITE_IOERR` and leaves the store as it was for the
///   process that saw it; once the file is opened again it holds either nothing of the operation
///   or all of it (SQLite may find a commit whose fsync failed intact in its log), never part;
/// - `verify` finds no damage, and the next operation on a working disk completes.
@Suite("Lỗi vào/ra của đĩa / injected I/O errors", .serialized)
struct IOErrorTests {
    static let kinds: [(String, FaultyDisk.Kinds)] = [("write", .write), ("fsync", .sync)]

    final class Folder {
        let path: String
        init() throws {
            path = (FileManager.default.temporaryDirectory.path as NSString).appendingPathComponent("cchc-ioerr-\(UUID().uuidString)")
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    /// A new TTQLCK replica at `path`, with `activities` activities recorded one write each.
    static func replica(_ path: String, id: String, activities: Int = 0) throws -> ReplicaStore {
        let s = try ReplicaStore.open(path: path, create: true)
        try s.initialise(identity: .init(replica: ReplicaID(id)!, unit: "TTQLCK"), label: id, signingKey: SigningKey())
        for n in 0..<activities { _ = try s.createRecord(kind: .activity, owner: "TTQLCK", changes: Self.activity(n)) }
        return s
    }

    static func activity(_ n: Int) -> [(String, Value)] {
        [
            ("unit", .text("TTQLCK")), ("date", .text("2026-03-\(String(format: "%02d", n % 28 + 1))")), ("form", .text("HT01")),
            ("content", .text("ND01")), ("title", .text("Hội nghị tuyên truyền số \(n)")), ("quantity", .int(Int64(n % 9 + 1))),
            ("participants", .int(40)), ("recorded", .text("2026-03-01T08:00:00Z")), ("deleted", .int(0)),
        ]
    }

    /// How many calls of `kinds` on `path`'s files `body` makes (a fault armed beyond reach counts them).
    static func calls(_ path: String, _ kinds: FaultyDisk.Kinds, _ body: () throws -> Void) throws -> Int {
        try FaultyDisk.arm(path, kinds: kinds, after: Int.max)
        defer { FaultyDisk.disarm(path) }
        try body()
        return FaultyDisk.seen(path)
    }

    /// What a power cut now would leave: the database and its write-ahead log as the disk holds
    /// them (not the shared-memory index, which does not survive), opened as the next start would.
    static func crashImage(of path: String, in folder: Folder, _ n: Int) throws -> ReplicaStore {
        let copy = folder.file("crash-\(n).sqlite")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: copy + suffix) }
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        if FileManager.default.fileExists(atPath: path + "-wal") { try FileManager.default.copyItem(atPath: path + "-wal", toPath: copy + "-wal") }
        return try ReplicaStore.open(path: copy)
    }

    /// The expected refusal: a `SyncError` naming the database and the I/O error.
    static func expectIOError(_ error: any Error, _ context: String) {
        guard let e = error as? SyncError else {
            Issue.record("\(context): not a SyncError: \(error)")
            return
        }
        #expect(e.field == "db" && e.value == "SQLITE_IOERR", "\(context): \(e)")
        #expect(e.message.contains("lỗi vào/ra của đĩa"), "\(context): \(e.message)")
    }

    @Test(
        "Ghi cục bộ khi đĩa lỗi ở mọi vị trí: thành công là đã lưu, thất bại không để lại nửa chừng / a local write under an I/O error at every position"
    )
    func localWrite() throws {
        // Before any store opens: a connection keeps the VFS it was opened with.
        try FaultyDisk.install()
        for (name, kind) in Self.kinds {
            let folder = try Folder()
            let path = folder.file("TTQLCK.sqlite")
            var store = try Self.replica(path, id: "a1000001")
            var n = 0
            // One write on a working disk, to count its calls.
            let reach = try Self.calls(path, kind) {
                n += 1
                _ = try store.createRecord(kind: .activity, owner: "TTQLCK", changes: Self.activity(n))
            }
            #expect(reach > 0, "\(name): a local write made no \(name) call")
            var failed = 0
            var phantoms = 0
            var crashPhantoms = 0
            for after in 0..<reach {
                let before = try store.dump().json()
                let vvBefore = try store.versionVector()
                n += 1
                try FaultyDisk.arm(path, kinds: kind, after: after)
                var reported: (any Error)?
                do {
                    _ = try store.createRecord(kind: .activity, owner: "TTQLCK", changes: Self.activity(n))
                } catch {
                    reported = error
                }
                let injected = FaultyDisk.injected(path)
                FaultyDisk.disarm(path)
                // Later writes make fewer calls than the first: a position past this one's reach injects nothing.
                #expect(injected == 1 || reported == nil, "\(name) at \(after): refused with no error injected: \(String(describing: reported))")
                if let reported {
                    failed += 1
                    Self.expectIOError(reported, "\(name) at \(after)")
                    #expect(try store.dump().json() == before, "\(name) at \(after): a failed write changed the store")
                }
                let vvInProcess = try store.versionVector()
                // The power goes now: what the disk holds is opened by the next start.
                let crashed = try Self.crashImage(of: path, in: folder, after)
                let cvv = try crashed.versionVector()
                #expect(try crashed.verify().ok, "\(name) at \(after), power cut: damage")
                if reported == nil {
                    #expect(cvv == vvInProcess, "\(name) at \(after), power cut: a reported write is gone")
                } else if cvv != vvBefore {
                    crashPhantoms += 1
                    #expect(vvBefore.isDominated(by: cvv), "\(name) at \(after), power cut: \(vvBefore) → \(cvv)")
                }
                try crashed.close()
                // The process ends (the CLI exits after its message) and the file is opened again.
                try store.close()
                store = try ReplicaStore.open(path: path)
                let vv = try store.versionVector()
                let report = try store.verify()
                #expect(report.ok, "\(name) at \(after): \(report.summary)")
                if reported == nil {
                    #expect(vv == vvInProcess && vv != vvBefore, "\(name) at \(after): a reported write is not there after reopening")
                } else if vv != vvBefore {
                    // All of it: the write's ops, and verify has checked its records against them.
                    phantoms += 1
                    #expect(vvBefore.isDominated(by: vv), "\(name) at \(after): \(vvBefore) → \(vv)")
                }
            }
            #expect(failed > 0, "\(name): no position made the write fail (\(reach) calls)")
            print(
                "IOErrorTests.localWrite \(name): \(reach) positions, \(failed) refused, found whole after reopening \(phantoms), after a power cut \(crashPhantoms)"
            )
            // A working disk again: the next write completes and is there.
            n += 1
            let id = try store.createRecord(kind: .activity, owner: "TTQLCK", changes: Self.activity(n))
            #expect(try store.exists(id))
            try store.close()
        }
    }

    @Test("Đọc khi đĩa lỗi: lỗi nêu tên, verify không báo «ổn», không đổi gì / reads under an I/O error are refused by name, never reported clean")
    func readError() throws {
        try FaultyDisk.install()
        let folder = try Folder()
        let path = folder.file("TTQLCK.sqlite")
        let writer = try Self.replica(path, id: "a3000003", activities: 200)
        let before = try writer.dump().json()
        try writer.close()
        // A fresh process: nothing of the file in its page cache, so reading it reaches the disk.
        let store = try ReplicaStore.open(path: path)
        try FaultyDisk.arm(path, kinds: .read, after: 0, sticky: true)
        var listed: [ActivityRow]?
        do { listed = try store.activities(unit: "TTQLCK") } catch { Self.expectIOError(error, "activity list") }
        #expect(listed == nil, "a list read through a failing disk: \(listed?.count ?? 0) rows")
        // verify must not call a file it cannot read clean.
        do {
            let report = try store.verify()
            #expect(!report.ok, "verify reported a file it could not read as clean: \(report.summary)")
        } catch {
            Self.expectIOError(error, "verify")
        }
        #expect(FaultyDisk.injected(path) > 0)
        FaultyDisk.disarm(path)
        // The disk works again: nothing was changed.
        #expect(try store.dump().json() == before)
        #expect(try store.verify().ok)
        #expect(try store.activities(unit: "TTQLCK").count == 200)
        try store.close()
    }

    @Test("Sửa chữa khi đĩa lỗi: lỗi của đĩa (không phải hỏng dữ liệu), tệp giữ nguyên, không để lại tệp dở dang / repair on a failing disk")
    func repairOnFailingDisk() throws {
        try FaultyDisk.install()
        let folder = try Folder()
        let path = folder.file("TTQLCK.sqlite")
        try Self.replica(path, id: "a4000004", activities: 60).close()
        try Self.damageTypedRow(path)
        let damaged = try ReplicaStore.open(path: path)
        let before = try damaged.dump().json()
        #expect(try !damaged.verify().ok)
        try damaged.close()
        // The rebuilt file's write-ahead log is on the failing disk (the copy repair reads is not).
        let now: Int64 = 1_780_000_000
        let rebuiltLog = path + ".sua-chua-\(now)-wal"
        try FaultyDisk.arm(rebuiltLog, kinds: .write, after: 0, sticky: true)
        do {
            _ = try ReplicaStore.repair(path: path, now: now)
            Issue.record("repair reported success on a failing disk")
        } catch {
            Self.expectIOError(error, "repair")
            #expect((error as? SyncError)?.code == .database, "the disk's failure named as damage: \(error)")
        }
        #expect(FaultyDisk.injected(rebuiltLog) > 0)
        FaultyDisk.disarm(rebuiltLog)
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains("sua-chua") }
        #expect(left.isEmpty, "half-made files left: \(left)")
        let reopened = try ReplicaStore.open(path: path)
        #expect(try reopened.dump().json() == before, "a refused repair changed the file")
        try reopened.close()
        // The disk works again: repair mends the file.
        let r = try ReplicaStore.repair(path: path, now: now + 1)
        #expect(r.repaired)
        let mended = try ReplicaStore.open(path: path)
        #expect(try mended.verify().ok)
        try mended.close()
        // Damaged again and repaired again in the same second: not refused for the old file's name
        // (CI on a fast machine: two repairs within one second).
        try Self.damageTypedRow(path)
        let again = try ReplicaStore.repair(path: path, now: now + 1)
        #expect(again.repaired && again.oldFile == path + ".truoc-sua-chua-\(now + 1)-2", "\(again)")
        #expect(try ReplicaStore.repair(path: path, now: now + 1).repaired == false)
    }

    /// A typed row changed behind the op log's back (as a tool writing the file directly would):
    /// `verify` finds it and `repair` has to rebuild the file.
    static func damageTypedRow(_ path: String) throws {
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = [
            "python3", "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE activity SET title = 'x' WHERE rowid = 3\"); c.commit(); c.close()",
            path,
        ]
        try python.run()
        python.waitUntilExit()
        try #require(python.terminationStatus == 0)
    }

    @Test("Nhận thao tác khi đĩa lỗi ở mọi vị trí: không mất, không áp dụng nửa chừng / applying a peer's ops under an I/O error at every position")
    func applyPeerOps() throws {
        try FaultyDisk.install()
        for (name, kind) in Self.kinds {
            let folder = try Folder()
            let author = try Self.replica(folder.file("author.sqlite"), id: "a2000002", activities: 120)
            let hubPath = folder.file("hub.sqlite")
            // The receiver is a hub-like store; the batch is what the author's sync sends.
            func freshHub() throws -> ReplicaStore {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: hubPath + suffix) }
                let h = try ReplicaStore.open(path: hubPath, create: true)
                try h.initialise(identity: nil)
                return h
            }
            var hub = try freshHub()
            let batch = try author.ops(after: try hub.versionVector())
            #expect(batch.ops.count > 1000, "\(batch.ops.count) ops")
            let reach = try Self.calls(hubPath, kind) { _ = try hub.apply(batch, source: .peer(authenticated: nil, unit: nil)) }
            let expected = try hub.dump().json()
            var failed = 0
            var phantoms = 0
            var crashPhantoms = 0
            // Every position up to 40, then every fifth: a batch of thousands of ops writes many pages.
            for after in Array(0..<min(reach, 40)) + Array(stride(from: 40, to: reach, by: 5)) {
                try hub.close()
                hub = try freshHub()
                let before = try hub.dump().json()
                try FaultyDisk.arm(hubPath, kinds: kind, after: after)
                var reported: (any Error)?
                do { _ = try hub.apply(batch, source: .peer(authenticated: nil, unit: nil)) } catch { reported = error }
                FaultyDisk.disarm(hubPath)
                if let reported {
                    failed += 1
                    Self.expectIOError(reported, "\(name) at \(after)")
                    #expect(try hub.dump().json() == before, "\(name) at \(after): a failed apply changed the store")
                }
                let crashed = try Self.crashImage(of: hubPath, in: folder, after)
                let crashDump = try crashed.dump().json()
                #expect(try crashed.verify().ok, "\(name) at \(after), power cut: damage")
                if reported == nil {
                    #expect(crashDump == expected, "\(name) at \(after), power cut: a reported apply is not whole")
                } else if crashDump != before {
                    crashPhantoms += 1
                    #expect(crashDump == expected, "\(name) at \(after), power cut: part of a failed apply")
                }
                try crashed.close()
                try hub.close()
                hub = try ReplicaStore.open(path: hubPath)
                let report = try hub.verify()
                #expect(report.ok, "\(name) at \(after): \(report.summary)")
                let now = try hub.dump().json()
                if reported == nil {
                    #expect(now == expected, "\(name) at \(after): a reported apply is not whole after reopening")
                } else if now != before {
                    phantoms += 1
                    #expect(now == expected, "\(name) at \(after): part of a failed apply is there after reopening")
                }
                // The sender sends again (its ack cursor did not move): the hub ends with everything.
                _ = try hub.apply(batch, source: .peer(authenticated: nil, unit: nil))
                #expect(try hub.dump().json() == expected, "\(name) at \(after): the batch sent again does not complete the hub")
            }
            #expect(failed > 0, "\(name): no position made the apply fail (\(reach) calls)")
            print(
                "IOErrorTests.applyPeerOps \(name): a batch of \(batch.ops.count) ops, \(reach) calls, \(failed) refused, found whole after reopening \(phantoms), after a power cut \(crashPhantoms)"
            )
            try hub.close()
            try author.close()
        }
    }
}
