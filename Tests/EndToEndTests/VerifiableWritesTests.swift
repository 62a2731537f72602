import Foundation
import SyncCore
import Testing

/// The five ways a dot could come to name two ops (issue 9), each with the real executables:
/// every one ends converged with nothing lost, or refused with a named reason and nothing changed.
@Suite("Verifiable writes: restores, copied enrolments, forged and tampered files", .serialized)
struct VerifiableWritesTests {
    /// Copies a replica's database file (as a backup would), closing nothing: WAL is checkpointed
    /// by each command's end, so the main file is the whole database.
    static func backup(_ h: HubHarness, _ name: String, to copy: String) throws {
        let fm = FileManager.default
        try? fm.removeItem(atPath: h.path(copy))
        try fm.copyItem(atPath: h.db(name), toPath: h.path(copy))
        if fm.fileExists(atPath: h.db(name) + "-wal") { try fm.copyItem(atPath: h.db(name) + "-wal", toPath: h.path(copy) + "-wal") }
    }

    static func restore(_ h: HubHarness, _ name: String, from copy: String) throws {
        let fm = FileManager.default
        for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: h.db(name) + suffix) }
        try fm.copyItem(atPath: h.path(copy), toPath: h.db(name))
        if fm.fileExists(atPath: h.path(copy) + "-wal") { try fm.copyItem(atPath: h.path(copy) + "-wal", toPath: h.db(name) + "-wal") }
    }

    /// The titles of the activities a Q1 JSON report of the hub counts.
    static func reportedTitles(_ h: HubHarness) throws -> [String] {
        let out = h.path("q1.json")
        try h.hubOK("report", "--period", "2026-Q1", "--format", "json", "--out", out)
        let text = try String(contentsOf: URL(fileURLWithPath: out), encoding: .utf8)
        return ["Hoạt động một", "Hoạt động hai", "Hoạt động ba sau khôi phục", "Việc máy A", "Việc máy B"].filter { text.contains($0) }
    }

    static func json(_ r: ProcessResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], "\(r)")
    }

    @Test(
        "Given a replica restored from an old copy that writes on, when it syncs, then it recovers: hub and replica identical, old and new work reported"
    )
    func restoredBackupOverHTTP() throws {
        let h = try HubHarness.serving("restore", replicas: [("t", "TTQLCK")])
        try h.addActivity("t", title: "Hoạt động một")
        try h.clientOK("t", "sync")
        try Self.backup(h, "t", to: "t-backup.sqlite")
        try h.addActivity("t", title: "Hoạt động hai", date: "2026-03-03")
        try h.clientOK("t", "sync")
        // The laptop is reinstalled from the backup, and the unit records new work.
        try Self.restore(h, "t", from: "t-backup.sqlite")
        try h.addActivity("t", title: "Hoạt động ba sau khôi phục", date: "2026-03-04")

        let r = try h.client("t", ["sync"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stderr.contains("khôi phục từ một bản sao lưu cũ"), "\(r)")
        #expect(r.out.contains("Đã khôi phục") && r.out.contains("hai bên giữ cùng dữ liệu"), "\(r)")
        #expect(try h.clientDump("t") == h.hubDump())
        #expect(Set(try Self.reportedTitles(h)) == ["Hoạt động một", "Hoạt động hai", "Hoạt động ba sau khôi phục"])
        // The old file is kept beside the database; a second sync has nothing left to do.
        #expect(try FileManager.default.contentsOfDirectory(atPath: h.dir.path).contains { $0.hasPrefix("t.sqlite.truoc-khoi-phuc-") })
        let again = try h.clientOK("t", "sync")
        #expect(again.contains("đã gửi 0, đã nhận 0"), "\(again)")
        // The hub recorded the fork it refused, and closed it once the replica continued.
        let status = try Self.json(try h.hub("status", "--json"))
        #expect((status["forks"] as? [Any])?.isEmpty == true, "\(status)")
        h.killHub(signal: SIGTERM)
    }

    @Test(
        "Given a bundle-only replica restored from an old copy, when bundles go both ways, then the hub refuses the clash, the next bundle recovers it, and nothing is lost"
    )
    func restoredBackupByBundles() throws {
        let h = try HubHarness("restore-bundle")
        try h.hubOK("enrol", "--unit", "TTQLCK", "--out", h.path("t.enrol"))
        try h.clientOK("t", "init", "--enrolment", h.path("t.enrol"))
        let replica = try h.enrolment("t").replicaID.rawValue
        func up(expect status: Int32 = 0) throws -> ProcessResult {
            try h.clientOK("t", "bundle", "export", "--out", h.path("up.bundle"))
            let r = try h.hub("bundle", "import", h.path("up.bundle"))
            #expect(r.status == status, "\(r)")
            return r
        }
        func down() throws -> String {
            try h.hubOK("bundle", "export", "--replica", replica, "--out", h.path("down.bundle"))
            return try h.clientOK("t", "bundle", "import", h.path("down.bundle"))
        }
        try h.addActivity("t", title: "Hoạt động một")
        _ = try up()
        _ = try down()
        try Self.backup(h, "t", to: "t-backup.sqlite")
        try h.addActivity("t", title: "Hoạt động hai", date: "2026-03-03")
        _ = try up()
        _ = try down()
        try Self.restore(h, "t", from: "t-backup.sqlite")
        try h.addActivity("t", title: "Hoạt động ba sau khôi phục", date: "2026-03-04")

        // The hub refuses the clashing bundle (a fork, exit 9) and changes nothing but the evidence.
        let before = try h.hubDump()
        let refused = try up(expect: 9)
        #expect(refused.stderr.contains("\(replica):") && refused.stderr.contains("hub bundle export"), "\(refused)")
        #expect(try h.hubDump() == before)
        let forks = try Self.json(try h.hub("status", "--json"))["forks"] as? [[String: Any]]
        #expect(forks?.count == 1 && forks?.first?["origin"] as? String == replica, "\(forks ?? [])")
        // The next bundle from the hub brings the replica's own ops back: it recovers.
        let recovered = try down()
        #expect(recovered.contains("Đã khôi phục"), "\(recovered)")
        _ = try up()
        _ = try down()
        #expect(try h.clientDump("t") == h.hubDump())
        #expect(Set(try Self.reportedTitles(h)) == ["Hoạt động một", "Hoạt động hai", "Hoạt động ba sau khôi phục"])
    }

    @Test(
        "Given one enrolment file on two machines, when the second syncs, then it is refused (exit 4) keeping its work, and rehome moves that work under a new enrolment"
    )
    func copiedEnrolment() throws {
        let h = try HubHarness.serving("twomachines", replicas: [("a", "TTQLCK")])
        // The same file initialises a second machine.
        try h.clientOK("b", "init", "--enrolment", h.path("a.enrol"), "--label", "b")
        try h.addActivity("a", title: "Việc máy A")
        let bID = try h.addActivity("b", title: "Việc máy B", date: "2026-03-05")
        try h.clientOK("a", "sync")
        let mine = try h.clientDump("b")
        let refused = try h.client("b", ["sync"])
        #expect(refused.status == 4, "\(refused)")
        #expect(refused.stderr.contains("máy khác") && refused.stderr.contains("rehome"), "\(refused)")
        #expect(try h.clientDump("b") == mine, "the refused machine keeps its work")

        try h.hubOK("enrol", "--unit", "TTQLCK", "--out", h.path("b2.enrol"), "--url", h.url)
        let moved = try h.clientOK("b", "rehome", "--enrolment", h.path("b2.enrol"))
        #expect(moved.contains("1 bản ghi tạo lại"), "\(moved)")
        try h.clientOK("b", "sync")
        try h.clientOK("a", "sync")
        #expect(try h.clientDump("a") == h.hubDump())
        #expect(try h.clientDump("b") == h.hubDump())
        #expect(Set(try Self.reportedTitles(h)) == ["Việc máy A", "Việc máy B"])
        // B's activity lives on under the new replica, with a new id; the old id is A's.
        let status = try Self.json(try h.client("b", ["status", "--json"]))
        let rehomed = try h.enrolment("b2").replicaID.rawValue
        #expect(status["replica_id"] as? String == rehomed)
        let list = try h.clientOK("b", "activity", "list")
        let newID = try h.enrolment("b2").replicaID.rawValue
        let oldID = try h.enrolment("a").replicaID.rawValue
        #expect(list.contains("Việc máy B") && list.contains(newID), "\(list)")
        #expect(bID.contains(oldID))
        h.killHub(signal: SIGTERM)
    }

    /// A unit's laptop of the previous release (no signing key), backed up, upgraded and synced
    /// (the upgrade makes its key at the first write and registers it); then the backup is put
    /// back. The copy has no key, makes a new one at its next write, and is another machine to
    /// the hub: refused as a copied enrolment, its work kept, and moved by `rehome` (README,
    /// "Known limits"). The Fixtures/previous-main hub and TTQLCK replica.
    @Test(
        "Given the previous release's replica backed up before the upgrade and put back after it synced, when it syncs, then it is refused as another machine keeping its work, and rehome brings that work to the hub"
    )
    func backupFromBeforeTheUpgrade() throws {
        let h = try HubHarness("before-upgrade", copyingHub: PreviousVersionTests.fixtures.appendingPathComponent("hub.sqlite"))
        try h.startHub()
        try FileManager.default.copyItem(atPath: PreviousVersionTests.fixtures.appendingPathComponent("TTQLCK.sqlite").path, toPath: h.db("t"))
        try Self.backup(h, "t", to: "t-before-upgrade.sqlite")
        let upgraded = try h.client("t", ["sync", "--hub", h.url, "--json"])
        #expect(upgraded.status == 0, "\(upgraded)")
        #expect(try h.clientDump("t") == h.hubDump())
        let key = try #require(try Self.json(try h.client("t", ["status", "--json"]))["machine_key"] as? String)
        func activityIDs() throws -> [String] {
            try h.clientOK("t", "activity", "list").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                $0.hasPrefix("HD.")
            }
        }
        let synced0 = try activityIDs()
        #expect(!synced0.isEmpty, "the previous release's activities")

        try Self.restore(h, "t", from: "t-before-upgrade.sqlite")
        // In the second quarter: the unit's first-quarter report was submitted, its figures fixed.
        try h.addActivity("t", title: "Việc ghi sau khi chép lại bản cũ", date: "2026-04-06")
        let mine = try h.clientDump("t")
        let refused = try h.client("t", ["sync", "--hub", h.url])
        #expect(refused.status == 4, "\(refused)")
        #expect(refused.stderr.contains("máy khác") && refused.stderr.contains("rehome"), "\(refused)")
        #expect(try h.clientDump("t") == mine, "the refused copy keeps its work")
        #expect(try Self.json(try h.client("t", ["status", "--json"]))["machine_key"] as? String != key, "the copy made a key of its own")

        try h.hubOK("enrol", "--unit", "TTQLCK", "--out", h.path("t2.enrol"), "--url", h.url)
        try h.clientOK("t", "rehome", "--enrolment", h.path("t2.enrol"))
        let synced = try h.client("t", ["sync"])
        #expect(synced.status == 0, "\(synced)")
        #expect(try h.clientDump("t") == h.hubDump())
        let out = h.path("q2.json")
        try h.hubOK("report", "--period", "2026-Q2", "--format", "json", "--out", out)
        #expect(try String(contentsOf: URL(fileURLWithPath: out), encoding: .utf8).contains("Việc ghi sau khi chép lại bản cũ"))
        // The activities the previous release had synced keep their ids and are not created a
        // second time: one more activity, the one written on the copy.
        let after = try activityIDs()
        #expect(after.count == synced0.count + 1 && Set(synced0).isSubset(of: after), "before: \(synced0), after: \(after)")
        h.killHub(signal: SIGTERM)
    }

    @Test(
        "Given a forged ops file claiming another replica's origin, when the real ops arrive, then the fork is shown, the hub's copy kept and the forged one set aside in the old file"
    )
    func forgedOpsFile() throws {
        let h = try HubHarness.serving("forged", replicas: [("vp", "VP"), ("t", "TTQLCK")])
        let victim = try h.enrolment("t").replicaID.rawValue
        try h.addActivity("t", title: "Hoạt động thật")
        try h.clientOK("t", "sync")
        // A forger makes a replica with the victim's id and its own key, and hands the Office a file.
        try Fixtures.replica(h.path("forger.sqlite"), unit: "TTQLCK", replica: victim, in: h.dir)
        try Fixtures.addActivity(db: h.path("forger.sqlite"), in: h.dir, form: "HT01", content: "ND05", date: "2026-03-02", title: "Hoạt động giả")
        try Run.ok(.unitClient, ["ops", "export", "--db", h.path("forger.sqlite"), "--out", h.path("forged.ops")], in: h.dir)
        try h.clientOK("vp", "ops", "import", h.path("forged.ops"))
        #expect(try h.clientOK("vp", "activity", "list").contains("Hoạt động giả"))
        // The real ops, from the hub, meet the forged ones: the fork is named, the hub's copy is the
        // one kept (the hub takes a replica's ops only from the machine its enrolment is bound to).
        let r = try h.client("vp", ["sync"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stderr.contains("\(victim):1") && r.stderr.contains("Đang có") && r.stderr.contains("Nhận được"), "\(r)")
        #expect(r.out.contains("Đã giữ bản của hub cho thao tác của bản sao \(victim)"), "\(r)")
        let list = try h.clientOK("vp", "activity", "list")
        #expect(list.contains("Hoạt động thật") && !list.contains("Hoạt động giả"), "\(list)")
        #expect(try h.clientDump("vp") == h.hubDump())
        // The forged branch is not lost: it stays in the old file, and the fork in the history.
        let old = try FileManager.default.contentsOfDirectory(atPath: h.dir.path).filter { $0.hasPrefix("vp.sqlite.truoc-bo-nhanh-\(victim)-") }
        #expect(old.count == 1, "\(old)")
        if let file = old.first {
            let kept = try Run.ok(.unitClient, ["activity", "list", "--db", h.path(file)], in: h.dir)
            #expect(kept.out.contains("Hoạt động giả"), "\(kept)")
        }
        let status = try Self.json(try h.client("vp", ["status", "--json"]))
        #expect((status["forks"] as? [[String: Any]])?.isEmpty == true, "\(status)")
        let text = try h.clientOK("vp", "status")
        #expect(text.contains("Phân nhánh:     không có"), "\(text)")
        // The same forged file brought again is refused now, naming the dot, and changes nothing.
        let before = try h.clientDump("vp")
        let again = try h.client("vp", ["ops", "import", h.path("forged.ops")])
        #expect(again.status == 9, "\(again)")
        #expect(again.stderr.contains("\(victim):1"), "\(again)")
        #expect(try h.clientDump("vp") == before)
        h.killHub(signal: SIGTERM)
    }

    @Test(
        "Given ops carried by a third laptop, when imported, then they verify end to end; a changed value in the JSON form is refused and changes nothing"
    )
    func relayAndTamperedJSON() throws {
        let h = try HubHarness.serving("relay", replicas: [("vp", "VP"), ("t1", "TTQLCK")])
        try h.addActivity("vp", title: "Tin của Văn phòng")
        try h.clientOK("vp", "sync")
        try h.clientOK("t1", "sync")
        // t1 carries the Office's and the hub's ops to a laptop that never reached the hub.
        try Fixtures.replica(h.db("t2"), unit: "TTQLCK", in: h.dir)
        try h.clientOK("t1", "ops", "export", "--out", h.path("carry.ops"))
        try h.clientOK("t2", "ops", "import", h.path("carry.ops"))
        #expect(try h.clientOK("t2", "activity", "list").contains("Tin của Văn phòng"))
        // The readable form verifies too; one changed value makes it fail.
        try Fixtures.replica(h.db("t3"), unit: "TTQLCK", in: h.dir)
        try h.clientOK("t1", "ops", "export", "--format", "json", "--out", h.path("carry.json"))
        try h.clientOK("t3", "ops", "import", h.path("carry.json"))
        try Fixtures.replica(h.db("t4"), unit: "TTQLCK", in: h.dir)
        let original = try String(contentsOf: URL(fileURLWithPath: h.path("carry.json")), encoding: .utf8)
        #expect(original.contains("Tin của Văn phòng"))
        try original.replacingOccurrences(of: "Tin của Văn phòng", with: "Tin đã bị sửa").write(
            toFile: h.path("tampered.json"), atomically: true, encoding: .utf8)
        let before = try h.clientDump("t4")
        let r = try h.client("t4", ["ops", "import", h.path("tampered.json")])
        #expect(r.status == 4, "\(r)")
        #expect(r.stderr.contains("không khớp chữ ký"), "\(r)")
        #expect(try h.clientDump("t4") == before)
        h.killHub(signal: SIGTERM)
    }
}
