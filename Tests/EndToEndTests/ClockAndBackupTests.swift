import Foundation
import SyncCore
import Testing

/// What a year of running brings, with the real executables: a laptop whose clock is wrong, a
/// bundle carried too long or the wrong way, and the hub put back from its nightly backup.
///
/// Wrong clocks come from `faketime` (Debian's libfaketime, installed by `.ci/run`): the program
/// under test reads a shifted wall clock and nothing in it is changed for the test.
@Suite("Clocks, bundle lifetimes and the hub's nightly backup", .serialized)
struct ClockAndBackupTests {
    /// Runs `tool args…` with its wall clock shifted by `offset` (faketime syntax: "+10m", "-2d").
    static func shifted(
        _ offset: String, _ tool: Run.Tool, _ args: [String], in dir: URL, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> ProcessResult {
        let faketime = try #require(
            Run.which("faketime"), "faketime is not installed (apt-get install faketime; .ci/run installs it)", sourceLocation: sourceLocation)
        let exe = try tool.executable(sourceLocation: sourceLocation)
        // Timers and sleeps keep the real monotonic clock: only the wall clock is wrong.
        return try Run.program(faketime, ["-f", offset, exe.path] + args, in: dir, environment: ["FAKETIME_DONT_FAKE_MONOTONIC": "1"])
    }

    @Test(
        "Given a laptop clock beyond the hub's ±300 s, then sync is refused with exit 4 naming the clock and nothing changes; within the window, or once put right, it syncs"
    )
    func clockBeyondWindow() async throws {
        let h = try HubHarness.serving("clock", replicas: [("a", "TTQLCK")])
        try h.addActivity("a", title: "Niêm yết thủ tục tại cửa khẩu")
        let hubBefore = try h.hubDump()
        let mineBefore = try h.clientDump("a")
        for offset in ["+10m", "-10m", "+6h"] {
            let r = try Self.shifted(offset, .unitClient, ["sync", "--attempts", "1", "--db", h.db("a")], in: h.dir)
            #expect(r.status == 4, "clock \(offset): \(r)")
            #expect(r.stderr.hasPrefix("Lỗi:") && r.stderr.contains("đồng hồ") && r.stderr.contains("300"), "clock \(offset): \(r.stderr)")
            #expect(try h.hubDump() == hubBefore, "clock \(offset)")
            #expect(try h.clientDump("a") == mineBefore, "clock \(offset)")
        }
        // Four minutes off is inside the window: the sync goes through.
        let within = try Self.shifted("+4m", .unitClient, ["sync", "--db", h.db("a")], in: h.dir)
        #expect(within.status == 0, "\(within)")
        #expect(try h.hubDump() != hubBefore)
        #expect(try h.clientDump("a") == h.hubDump())
        h.killHub(signal: SIGTERM)
    }

    @Test("Given bundles older than 90 days, from the future, or carried the wrong way, then each import is refused by name and nothing changes")
    func bundleLifetimeAndDirection() async throws {
        let h = try HubHarness.serving("bundleage", replicas: [("a", "TTQLCK"), ("b", "CPCM-QLDTDN")])
        try h.addActivity("a", title: "Bài viết trên cổng thông tin")
        try h.clientOK("a", "bundle", "export", "--out", h.path("a-up.bundle"))
        let aID = try h.enrolment("a").replicaID.rawValue
        let hubBefore = try h.hubDump()

        func hubRefuses(_ r: ProcessResult, _ why: String, exit: Int32, naming words: [String]) throws {
            #expect(r.status == exit, "\(why): \(r)")
            #expect(r.stderr.hasPrefix("Lỗi:"), "\(why): \(r.stderr)")
            for w in words { #expect(r.stderr.contains(w), "\(why): «\(w)» not in \(r.stderr)") }
            #expect(try h.hubDump() == hubBefore, "\(why): the hub changed")
        }
        // Carried for 91 days: too old for the hub.
        try hubRefuses(
            try Self.shifted("+91d", .hub, ["bundle", "import", h.path("a-up.bundle"), "--db", h.hubDB], in: h.dir), "91 days old", exit: 4,
            naming: ["a-up.bundle", "quá hạn", "90 ngày"])
        // Written on a laptop whose clock ran two days ahead: from the future.
        let future = try Self.shifted("+2d", .unitClient, ["bundle", "export", "--out", h.path("a-future.bundle"), "--db", h.db("a")], in: h.dir)
        #expect(future.status == 0, "\(future)")
        try hubRefuses(try h.hub("bundle", "import", h.path("a-future.bundle")), "from the future", exit: 4, naming: ["a-future.bundle", "quá hạn"])
        // The hub's own answer for a, given back to the hub: the wrong direction.
        try h.hubOK("bundle", "export", "--replica", aID, "--out", h.path("a-down.bundle"))
        try hubRefuses(
            try h.hub("bundle", "import", h.path("a-down.bundle")), "wrong direction", exit: 2, naming: ["a-down.bundle", "không phải gói gửi hub"])

        // On the laptops: a's own upload bundle, the wrong way; a's answer on b's machine; a's
        // answer after 91 days.
        let mineBefore = try h.clientDump("a")
        let bBefore = try h.clientDump("b")
        let own = try h.client("a", ["bundle", "import", h.path("a-up.bundle")])
        #expect(own.status == 2 && own.stderr.contains("không phải gói hub gửi bản sao"), "\(own)")
        let other = try h.client("b", ["bundle", "import", h.path("a-down.bundle")])
        #expect(other.status == 4 && other.stderr.contains(aID), "\(other)")
        let old = try Self.shifted("+91d", .unitClient, ["bundle", "import", h.path("a-down.bundle"), "--db", h.db("a")], in: h.dir)
        #expect(old.status == 4 && old.stderr.contains("quá hạn"), "\(old)")
        #expect(try h.clientDump("a") == mineBefore)
        #expect(try h.clientDump("b") == bBefore)

        // Within its lifetime (89 days on) the genuine bundle goes in.
        let fresh = try Self.shifted("+89d", .hub, ["bundle", "import", h.path("a-up.bundle"), "--db", h.hubDB], in: h.dir)
        #expect(fresh.status == 0, "\(fresh)")
        #expect(try h.hubDump().contains("Bài viết trên cổng thông tin"))
        h.killHub(signal: SIGTERM)
    }

    @Test(
        "Given the hub put back from its nightly backup, then the restored file verifies with the backup's dump, and the replicas' next syncs give back what it acknowledged after"
    )
    func hubRestoredFromNightly() async throws {
        // d: a second TTQLCK laptop that syncs after the backup and is then lost for good.
        let h = try HubHarness.serving("restorehub", replicas: [("a", "TTQLCK"), ("b", "CPCM-QLDTDN"), ("d", "TTQLCK")])
        try h.addActivity("a", title: "Phát tờ rơi thủ tục hải quan")
        try h.addActivity("b", title: "Tập huấn dịch vụ công trực tuyến")
        try h.clientOK("a", "sync")
        try h.clientOK("b", "sync")
        try h.clientOK("a", "sync")
        try h.hubOK("nightly", "--dir", h.path("bk"), "--keep", "3")
        let atBackup = try h.hubDump()
        let backup = try #require(try FileManager.default.contentsOfDirectory(atPath: h.path("bk")).first { $0.hasSuffix(".sqlite") })

        // After the backup, both units record work and the hub acknowledges it; a machine is
        // enrolled and syncs its first work; b receives a's and c's.
        try h.addActivity("a", title: "Hội nghị đối thoại doanh nghiệp", date: "2026-03-10")
        try h.addActivity("b", title: "Bài đăng Zalo về thủ tục mới", date: "2026-03-11")
        try h.replica("c", unit: "CPCM-QHXDMT")
        try h.addActivity("c", title: "Tọa đàm về quy hoạch xây dựng", date: "2026-03-12")
        try h.addActivity("d", title: "Hướng dẫn thủ tục cho lái xe tại bãi", date: "2026-03-13")
        try h.clientOK("a", "sync")
        try h.clientOK("c", "sync")
        try h.clientOK("d", "sync")
        try h.clientOK("b", "sync")
        let acknowledged = try h.hubDump()
        #expect(
            acknowledged.contains("Hội nghị đối thoại") && acknowledged.contains("Bài đăng Zalo") && acknowledged.contains("Tọa đàm")
                && acknowledged.contains("lái xe tại bãi"))

        // The hub's disk is lost; the operator puts back last night's file (docs/OPERATIONS.md).
        #expect(h.killHub(signal: SIGTERM) == 0)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: h.hubDB + suffix) }
        try FileManager.default.copyItem(atPath: h.path("bk/\(backup)"), toPath: h.hubDB)
        let verify = try h.hub("verify")
        #expect(verify.status == 0, "\(verify)")
        #expect(try h.hubDump() == atBackup, "the restored backup holds exactly what the hub held when it was made")

        // Serving again, each replica's sync gives back its own work the hub lost, and takes the other's.
        try h.startHub()
        for n in ["a", "b"] {
            let r = try h.client(n, ["sync", "--hub", h.url, "--json"])
            #expect(r.status == 0, "\(n): \(r)")
        }
        // c's enrolment is younger than the backup: refused by name, with what the operator does.
        let cID = try h.enrolment("c").replicaID.rawValue
        let unknown = try h.client("c", ["sync", "--hub", h.url])
        #expect(unknown.status == 4 && unknown.stderr.contains(cID) && unknown.stderr.contains("hub enrol --restore"), "\(unknown)")
        // d never syncs again: its work reaches the hub from b, which received it, by an ops file
        // (verified end to end). While the hub does not know c, a file carrying c's ops is refused
        // whole, naming c and the way out.
        let carried = h.path("b-carries.ops")
        try h.clientOK("b", "ops", "export", "--out", carried)
        let beforeImport = try h.hubDump()
        let early = try h.hub("ops", "import", carried)
        #expect(early.status == 4 && early.stderr.contains(cID) && early.stderr.contains("hub enrol --restore"), "\(early)")
        #expect(try h.hubDump() == beforeImport)
        // Enrolled again from its file (same id, same secret): nothing else changes, and twice is harmless.
        let wrong = try h.hub("enrol", "--restore", h.path("c.enrol"), "--unit", "VP")
        #expect(wrong.status == 2 && wrong.stderr.contains("«VP»"), "\(wrong)")
        #expect(try h.hubOK("enrol", "--restore", h.path("c.enrol")).contains(cID))
        #expect(try h.hubOK("enrol", "--restore", h.path("c.enrol")).contains("không thay đổi"))
        let imported = try h.hubOK("ops", "import", carried)
        #expect(imported.contains("mới") && !imported.hasPrefix("Đã nhập vào hub: 0 mới"), "\(imported)")
        try h.clientOK("c", "sync", "--hub", h.url)
        for n in ["a", "b"] { try h.clientOK(n, "sync", "--hub", h.url) }
        let healed = try h.hubDump()
        #expect(healed == acknowledged, "every op the hub acknowledged after the backup is back")
        for n in ["a", "b", "c"] { #expect(try h.clientDump(n) == healed, "dump of \(n)") }
        // Another hub's enrolment file (or one edited) is not taken for this one's.
        var other = try h.enrolment("c")
        other.secret = String(repeating: "7", count: 64)
        try other.write(path: h.path("forged.enrol"))
        let forged = try h.hub("enrol", "--restore", h.path("forged.enrol"))
        #expect(forged.status == 6 && forged.stderr.contains(cID), "\(forged)")
        // A revoked machine's ops are not carried in: the file is refused whole, the hub unchanged.
        let dID = try h.enrolment("d").replicaID.rawValue
        try h.addActivity("b", title: "Bài viết mới sau khôi phục", date: "2026-03-14")
        try h.hubOK("revoke", dID)
        let settled = try h.hubDump()
        let revoked = try h.hub("ops", "import", carried)
        #expect(revoked.status == 4 && revoked.stderr.contains(dID) && revoked.stderr.contains("thu hồi"), "\(revoked)")
        #expect(try h.hubDump() == settled)
        let verifyAfter = try h.hub("verify")
        #expect(verifyAfter.status == 0, "\(verifyAfter)")
        h.killHub(signal: SIGTERM)
    }
}
