import Foundation
import GRDB
import Testing

/// Another process holding the write lock (a sync, a nightly backup, a stuck editor): reads go on,
/// writes wait, a write that waits too long says so in Vietnamese and changes nothing; two `init`s
/// racing on one path leave one sound database.
@Suite("Busy databases: a held write lock, racing inits", .serialized)
struct BusyDatabaseTests {
    /// Holds `BEGIN IMMEDIATE` on `db` for `seconds`, through Python's sqlite3 (a real other process).
    static let holder = """
        import sqlite3, sys, time
        c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
        c.execute("BEGIN IMMEDIATE")
        open(sys.argv[2], "w").close()
        time.sleep(float(sys.argv[3]))
        c.execute("ROLLBACK")
        """

    struct Lock {
        let process: RunningProcess
        let started: Date
    }

    static func holdWriteLock(_ db: String, for seconds: Double, in dir: TempDir) throws -> Lock {
        let python = try #require(Run.which("python3"), "python3 is needed to hold a lock from another process")
        let ready = dir.path("lock-ready-\(UUID().uuidString)")
        let p = try Run.start(python, ["-c", holder, db, ready, String(seconds)], in: dir.url)
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: ready) {
            guard Date() < deadline else { throw HarnessError("the lock holder did not start: \(p.stop(signal: SIGKILL))") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return Lock(process: p, started: Date())
    }

    @Test("While another process holds the write lock, reads answer at once and a write waits for it")
    func readsDoNotWait() throws {
        let dir = try TempDir("busy")
        let db = dir.path("unit.sqlite")
        try Fixtures.replica(db, unit: "TTQLCK", in: dir.url)
        try Fixtures.addActivity(db: db, in: dir.url, form: "HT04", content: "ND04", date: "2026-02-10", title: "Phát tờ rơi", quantity: 500)
        let lock = try Self.holdWriteLock(db, for: 4, in: dir)
        for args in [["activity", "list", "--json"], ["status"], ["dump"], ["task", "list"]] {
            let r = try Run.unitClient(args + ["--db", db], in: dir.url)
            #expect(r.status == 0, "\(args) under a held write lock: \(r)")
        }
        let readsTook = Date().timeIntervalSince(lock.started)
        #expect(readsTook < 3.5, "reads waited for the writer: \(readsTook) s")
        // A write made now waits (default 30 s) and then succeeds once the lock is released.
        let write = try Run.unitClient(
            ["activity", "add", "--db", db, "--form", "HT02", "--content", "ND05", "--date", "2026-03-02", "--title", "Tin bài"], in: dir.url)
        #expect(write.status == 0, "a write waits for the other writer: \(write)")
        #expect(Date().timeIntervalSince(lock.started) >= 3.5, "the write did not wait for the lock")
        #expect(lock.process.wait().status == 0)
        let list = try Run.ok(.unitClient, ["activity", "list", "--json", "--db", db], in: dir.url)
        #expect(list.out.contains("Tin bài") && list.out.contains("Phát tờ rơi"))
    }

    @Test("A write that waits past CCHC_BUSY_TIMEOUT fails with exit 8, a Vietnamese message, and changes nothing")
    func writeTimesOut() throws {
        let dir = try TempDir("busy")
        let db = dir.path("unit.sqlite")
        try Fixtures.replica(db, unit: "TTQLCK", in: dir.url)
        let before = try Run.ok(.unitClient, ["dump", "--db", db], in: dir.url).stdout
        let lock = try Self.holdWriteLock(db, for: 6, in: dir)
        let r = try Run.unitClient(
            ["activity", "add", "--db", db, "--form", "HT02", "--content", "ND05", "--date", "2026-03-02", "--title", "Tin bài"], in: dir.url,
            environment: ["CCHC_BUSY_TIMEOUT": "1"])
        #expect(r.status == 8, "\(r)")
        #expect(r.stderr.contains("đang bận") && r.stderr.contains("1 giây"), "\(r)")
        #expect(!r.stderr.contains("database is locked"), "SQLite's English text leaked: \(r)")
        #expect(Date().timeIntervalSince(lock.started) < 5, "the timeout was not honoured")
        #expect(lock.process.wait().status == 0)
        #expect(try Run.ok(.unitClient, ["dump", "--db", db], in: dir.url).stdout == before, "a timed-out write changed the replica")
    }

    @Test("Two inits racing on one path: one wins, the other gets a clear message, the file is sound")
    func racingInits() throws {
        for round in 0..<3 {
            let dir = try TempDir("busy")
            let db = dir.path("unit.sqlite")
            let a = try Run.start(.unitClient, ["init", "--unit", "TTQLCK", "--db", db], in: dir.url)
            let b = try Run.start(.unitClient, ["init", "--unit", "VP", "--db", db], in: dir.url)
            let results = [a.wait(), b.wait()]
            let winners = results.filter { $0.status == 0 }
            #expect(winners.count == 1, "round \(round): exactly one init succeeds: \(results)")
            for loser in results where loser.status != 0 {
                #expect(loser.stderr.hasPrefix("Lỗi: "), "round \(round): \(loser)")
                #expect(!loser.stderr.contains("already exists"), "round \(round): SQLite's English text leaked: \(loser)")
            }
            let check = try DatabaseQueue(path: db).read { try String.fetchAll($0, sql: "PRAGMA integrity_check") }
            #expect(check == ["ok"], "round \(round): \(check)")
            let status = try Run.ok(.unitClient, ["status", "--json", "--db", db], in: dir.url)
            #expect(status.out.contains("TTQLCK") != status.out.contains("\"VP\""), "round \(round): one identity: \(status)")
        }
    }

    @Test("A CCHC_BUSY_TIMEOUT that is not 1–3600 seconds is named in a warning and the default is used")
    func badTimeoutValue() throws {
        let dir = try TempDir("busy")
        let db = dir.path("unit.sqlite")
        try Fixtures.replica(db, unit: "TTQLCK", in: dir.url)
        let r = try Run.unitClient(["status", "--db", db], in: dir.url, environment: ["CCHC_BUSY_TIMEOUT": "abc"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stderr.contains("«CCHC_BUSY_TIMEOUT»") && r.stderr.contains("«abc»"), "\(r)")
    }
}
