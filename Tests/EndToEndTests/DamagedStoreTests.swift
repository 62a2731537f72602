import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Damaged stores, through the built programs: rows changed behind the op log's back (Python's
/// sqlite3, a real other process), an op's value changed in the log itself, bytes flipped in a
/// page of the op table. `verify` names the damage and exits 7 (a clean store exits 0 and is
/// left byte for byte as it was), `repair` rebuilds from the verified log, `hub serve` refuses a
/// damaged hub (or serves 503 with `--allow-degraded`), `hub nightly` names it.
@Suite("Damaged stores: verify, repair, a hub that refuses to serve", .serialized)
struct DamagedStoreTests {
    /// Runs SQL with parameters on a database and prints the rows, then folds the write-ahead
    /// log into the file (so a copy of the file is the whole database).
    static let sql = """
        import sqlite3, sys
        c = sqlite3.connect(sys.argv[1])
        for row in c.execute(sys.argv[2], sys.argv[3:]).fetchall():
            print("\\t".join(str(v) for v in row))
        c.commit()
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        c.close()
        """

    /// XORs 64 bytes in the middle of the cell content of a leaf page of `op` in the middle of
    /// the table (never the free space of a page): the page found with `dbstat`, or by walking
    /// the table's b-tree from its root page where `dbstat` is not compiled in.
    static let flip = """
        import sqlite3, sys
        path = sys.argv[1]
        c = sqlite3.connect(path)
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = c.execute("PRAGMA page_size").fetchone()[0]
        root = c.execute("SELECT rootpage FROM sqlite_master WHERE name = 'op'").fetchone()[0]
        try:
            leaves = [r[0] for r in c.execute("SELECT pageno FROM dbstat WHERE name = 'op' AND pagetype = 'leaf' ORDER BY pageno")]
            how = "dbstat"
        except sqlite3.Error:
            leaves, how = None, "b-tree"
        c.close()
        data = bytearray(open(path, "rb").read())
        def header(n):
            return (n - 1) * size, (100 if n == 1 else 0)
        if leaves is None:
            leaves, todo = [], [root]
            while todo:
                n = todo.pop()
                off, h = header(n)
                cells = int.from_bytes(data[off + h + 3:off + h + 5], "big")
                if data[off + h] == 0x0D:
                    leaves.append(n)
                elif data[off + h] == 0x05:
                    for i in range(cells):
                        cell = int.from_bytes(data[off + h + 12 + 2 * i:off + h + 14 + 2 * i], "big")
                        todo.append(int.from_bytes(data[off + cell:off + cell + 4], "big"))
                    todo.append(int.from_bytes(data[off + h + 8:off + h + 12], "big"))
            leaves.sort()
        assert len(leaves) >= 3, leaves
        n = leaves[len(leaves) // 2]
        off, h = header(n)
        content = int.from_bytes(data[off + h + 5:off + h + 7], "big") or 65536
        at = off + (content + size) // 2 - 32
        for i in range(at, at + 64):
            data[i] ^= 0xFF
        open(path, "wb").write(data)
        print(how, n, at - off)
        """

    static func python(_ script: String, _ args: [String], in dir: TempDir, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let python = try #require(Run.which("python3"), "python3 (with its sqlite3 module) is needed to damage a database from outside")
        let r = try Run.program(python, ["-c", script] + args, in: dir.url)
        #expect(r.status == 0, "python3: \(r)", sourceLocation: sourceLocation)
        return r.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A standalone replica with `activities` activities (edits and deletes among them), written
    /// through the normal local write path.
    static func filledReplica(_ db: String, activities: Int, in dir: TempDir) throws {
        try Fixtures.replica(db, unit: "TTQLCK", in: dir.url)
        try Run.ok(.cchcBench, ["fill", "--db", db, "--activities", String(activities), "--seed", "9"], in: dir.url)
    }

    static func copy(_ from: String, _ to: String, in dir: TempDir) throws {
        _ = try python(sql, [from, "SELECT 1"], in: dir)
        try FileManager.default.copyItem(atPath: from, toPath: to)
    }

    static func json(_ r: ProcessResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], "not JSON: \(r)")
    }

    static func files(_ dir: TempDir) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir.url.path)) ?? []).sorted() }

    @Test("A clean replica verifies clean (exit 0, the summary line, JSON), and verify leaves the file byte for byte as it was")
    func cleanStore() throws {
        let dir = try TempDir("verify-clean")
        let db = dir.path("u.sqlite")
        try Self.filledReplica(db, activities: 150, in: dir)
        _ = try Self.python(Self.sql, [db, "SELECT 1"], in: dir)
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        let r = try Run.ok(.unitClient, ["verify", "--db", db], in: dir.url)
        #expect(r.out.hasPrefix("Kiểm tra: tốt — ") && r.out.contains(" thao tác, 1 chuỗi, ") && r.out.contains("bản ghi khớp"), "\(r)")
        let full = try Run.ok(.unitClient, ["verify", "--full", "--json", "--db", db], in: dir.url)
        let report = try Self.json(full)
        #expect(report["ok"] as? Bool == true && (report["problems"] as? [Any])?.isEmpty == true, "\(full)")
        #expect(report["integrity"] as? String == "integrity_check")
        #expect((report["records"] as? Int ?? 0) > 150 && (report["signatures"] as? Int ?? 0) > 0, "\(full)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before, "verify changed the database file")
        #expect(!Self.files(dir).contains { $0.contains("kiem-tra") }, "temporary files left: \(Self.files(dir))")
    }

    @Test("Typed rows changed behind the op log's back: verify names each (exit 7), repair rebuilds, the dump equals the undamaged original's")
    func derivedTableDamage() throws {
        let dir = try TempDir("verify-derived")
        let good = dir.path("good.sqlite")
        let db = dir.path("u.sqlite")
        try Self.filledReplica(good, activities: 150, in: dir)
        try Self.copy(good, db, in: dir)
        let ids = try Self.python(Self.sql, [db, "SELECT id FROM activity WHERE deleted = 0 ORDER BY id LIMIT 2 OFFSET 5"], in: dir)
            .split(separator: "\n").map(String.init)
        try #require(ids.count == 2)
        _ = try Self.python(Self.sql, [db, "UPDATE activity SET title = 'Bị sửa ngoài nhật ký' WHERE id = ?", ids[0]], in: dir)
        _ = try Self.python(Self.sql, [db, "UPDATE activity SET meta = x'00ff00ff' WHERE id = ?", ids[1]], in: dir)

        let r = try Run.unitClient(["verify", "--db", db], in: dir.url)
        #expect(r.status == 7, "\(r)")
        #expect(r.out.contains(ids[0]) && r.out.contains("«title»") && r.out.contains("Bị sửa ngoài nhật ký"), "\(r)")
        #expect(r.out.contains(ids[1]) && r.out.contains("meta"), "\(r)")
        #expect(r.out.contains("Kiểm tra: HỎNG — 2 vấn đề"), "\(r)")
        #expect(r.stderr.contains("unit-client repair"), "\(r)")
        let report = try Self.json(try Run.unitClient(["verify", "--json", "--db", db], in: dir.url))
        let kinds = (report["problems"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
        #expect(kinds == ["derived", "derived"], "\(report)")
        #expect(try Run.unitClient(["verify", "--db", good], in: dir.url).status == 0, "the original was touched")

        let repair = try Run.ok(.unitClient, ["repair", "--db", db], in: dir.url)
        #expect(repair.out.contains("đã dựng lại") && repair.out.contains("truoc-sua-chua-"), "\(repair)")
        #expect(Self.files(dir).contains { $0.hasPrefix("u.sqlite.truoc-sua-chua-") }, "\(Self.files(dir))")
        #expect(!Self.files(dir).contains { $0.contains("ban-chup") || $0.contains("kiem-tra") }, "\(Self.files(dir))")
        try Run.ok(.unitClient, ["verify", "--db", db], in: dir.url)
        let dump = try Run.ok(.unitClient, ["dump", "--db", db], in: dir.url).stdout
        #expect(dump == (try Run.ok(.unitClient, ["dump", "--db", good], in: dir.url).stdout), "the repaired dump differs from the original")
        #expect(try Run.ok(.unitClient, ["activity", "list", "--json", "--db", db], in: dir.url).out.contains("Bị sửa ngoài nhật ký") == false)
        // A clean store is left as it is.
        let again = try Run.ok(.unitClient, ["repair", "--db", db], in: dir.url)
        #expect(again.out.contains("không có gì cần sửa"), "\(again)")
    }

    @Test("64 bytes flipped in a page of the op table: verify exits 7 naming the damage, never a crash")
    func flippedBytes() throws {
        let dir = try TempDir("verify-flip")
        let good = dir.path("good.sqlite")
        let db = dir.path("u.sqlite")
        try Self.filledReplica(good, activities: 300, in: dir)
        try Self.copy(good, db, in: dir)
        let how = try Self.python(Self.flip, [db], in: dir)
        for args in [["verify"], ["verify", "--full"], ["verify", "--quick"]] {
            let r = try Run.unitClient(args + ["--db", db], in: dir.url)
            #expect(r.status == 7, "\(args) after a flip (\(how)): \(r)")
            #expect(r.out.contains("Kiểm tra: HỎNG — "), "\(r)")
            #expect(r.out.contains("tệp SQLite") || r.out.contains("nhật ký thao tác") || r.out.contains("chuỗi băm"), "\(r)")
        }
        // The damage is in this machine's own log, which no hub has: repair says what would be lost.
        let refused = try Run.unitClient(["repair", "--db", db], in: dir.url)
        #expect(refused.status == 6 && refused.stderr.contains("--accept-loss"), "\(refused)")
        #expect(try Run.unitClient(["verify", "--db", db], in: dir.url).status == 7, "a refused repair changed the file")
        // Accepted, it cuts the log before the damaged page (or, if SQLite cannot read up to
        // there, says it cannot repair, exit 7): never a trap, and a repaired store is clean.
        let repaired = try Run.unitClient(["repair", "--accept-loss", "--db", db], in: dir.url)
        #expect(repaired.status == 0 || repaired.status == 7, "\(repaired)")
        if repaired.status == 0 { try Run.ok(.unitClient, ["verify", "--db", db], in: dir.url) }
    }

    @Test(
        "An op's value changed in a hub's log: verify, serve and nightly name the damage (exit 7), --allow-degraded answers 503, repair cuts the log and the replica sends the ops again"
    )
    func hubLogDamage() async throws {
        let h = try HubHarness.serving("verify-hub", replicas: [("a", "TTQLCK")])
        try Run.ok(.cchcBench, ["fill", "--db", h.db("a"), "--activities", "120", "--seed", "3"], in: h.dir)
        try h.clientOK("a", "sync")
        let original = try h.hubDump()
        try h.hubOK("nightly", "--dir", h.path("bk"), "--keep", "3")
        #expect(h.killHub(signal: SIGTERM) == 0)

        let replica = try h.enrolment("a").replicaID.rawValue
        let changed = try Self.python(
            Self.sql,
            [
                h.hubDB,
                "UPDATE op SET value = 'sửa lén' WHERE id = (SELECT id FROM op WHERE id >> 28 = (SELECT idx FROM origin WHERE replica = ?) AND typeof(value) = 'text' ORDER BY id LIMIT 1 OFFSET 400) RETURNING id & 268435455",
                replica,
            ], in: h.folder)
        let counter = try #require(UInt64(changed), "no op changed: \(changed)")

        let r = try h.hub("verify")
        #expect(r.status == 7 && r.out.contains("chuỗi băm") && r.out.contains(replica), "\(r)")
        let report = try Self.json(try h.hub("verify", "--json"))
        let cut = try #require((report["cuts"] as? [String: Any])?[replica] as? Int, "\(report)")
        #expect(UInt64(cut) < counter, "cut at \(cut), the damaged op is \(counter)")

        // nightly names the damage and keeps the good backup it had.
        let nightly = try h.hub("nightly", "--dir", h.path("bk"), "--keep", "3")
        #expect(nightly.status == 7 && nightly.stderr.contains("hub repair"), "\(nightly)")
        let kept = try FileManager.default.contentsOfDirectory(atPath: h.path("bk"))
        #expect(kept.count == 1 && kept[0].hasSuffix(".sqlite"), "\(kept)")

        // serve refuses to start.
        let serve = try h.start(.hub, ["serve", "--host", "127.0.0.1", "--port", "0", "--db", h.hubDB])
        let deadline = Date().addingTimeInterval(60)
        while serve.isRunning && Date() < deadline { usleep(50_000) }
        let refused = serve.stop(signal: SIGKILL)
        #expect(refused.status == 7, "\(refused)")
        #expect(!refused.out.contains("listening on"), "\(refused)")
        #expect(refused.stderr.contains("hub repair") && refused.stderr.contains("sao lưu") && refused.stderr.contains(replica), "\(refused)")

        // --allow-degraded serves, but only 503s.
        let degraded = try h.start(.hub, ["serve", "--host", "127.0.0.1", "--port", "0", "--allow-degraded", "--db", h.hubDB])
        var port = 0
        while port == 0 && degraded.isRunning && Date() < deadline {
            if let line = degraded.outSoFar.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                port = Int(line.split(separator: ":").last ?? "") ?? 0
            } else {
                usleep(50_000)
            }
        }
        try #require(port > 0, "hub serve --allow-degraded did not start: \(degraded.stderrSoFar)")
        let (body, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/health")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 503)
        let health = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(health["status"] as? String == "degraded" && (health["reason"] as? String ?? "").contains(replica), "\(health)")
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/sync")!)
        request.httpMethod = "POST"
        request.httpBody = Data("x".utf8)
        let (syncBody, syncResponse) = try await URLSession.shared.data(for: request)
        #expect((syncResponse as? HTTPURLResponse)?.statusCode == 503)
        let error = (try JSONSerialization.jsonObject(with: syncBody) as? [String: Any])?["error"] as? [String: Any]
        #expect(error?["code"] as? String == "unavailable", "\(String(decoding: syncBody, as: UTF8.self))")
        #expect(degraded.stop(signal: SIGTERM).status == 0)

        // repair cuts the damaged log at its last verified head; the replica sends the rest again.
        let repair = try h.hub("repair")
        #expect(repair.status == 0 && repair.out.contains(replica) && repair.out.contains("nhận lại"), "\(repair)")
        try h.hubOK("verify")
        try h.startHub(port: h.port)
        try h.clientOK("a", "sync")
        #expect(try h.hubDump() == original, "the hub's dump after repair and a sync differs from before the damage")
        #expect(h.killHub(signal: SIGTERM) == 0)
    }

    @Test("repair refuses (exit 8) while hub serve has the database open, and the hub keeps serving")
    func repairWhileServing() async throws {
        let h = try HubHarness.serving("verify-busy", replicas: [])
        let r = try Run.hub(["repair", "--db", h.hubDB], in: h.dir, environment: ["CCHC_BUSY_TIMEOUT": "1"])
        #expect(r.status == 8 && r.stderr.contains("hub serve"), "\(r)")
        #expect(!FileManager.default.fileExists(atPath: h.hubDB + ".truoc-sua-chua-"), "\(r)")
        #expect(try await h.health() == 200)
        #expect(h.killHub(signal: SIGTERM) == 0)
    }
}
