import Foundation
import SyncCore
import Testing

/// A revoked machine (`hub revoke`) moved to a replacement enrolment (`hub enrol --replaces`,
/// `unit-client rehome`), with the real executables: its refused sync changes nothing, and after
/// the move every piece of its work is in the hub's report exactly once (found by cchc-sim with
/// `--revocations`: a rehome after a revocation created every synced activity a second time).
@Suite("Thu hồi và ghi danh thay thế / revocation and replacement enrolment", .serialized)
struct RevocationTests {
    static let titles = ["Việc trước thu hồi một", "Việc trước thu hồi hai", "Việc sau thu hồi"]

    /// How many times each title appears in the hub's Q1 JSON report (each activity is listed once).
    static func reportCounts(_ h: HubHarness) throws -> [String: Int] {
        let out = h.path("q1.json")
        try? FileManager.default.removeItem(atPath: out)
        try h.hubOK("report", "--period", "2026-Q1", "--format", "json", "--out", out)
        let text = try String(contentsOf: URL(fileURLWithPath: out), encoding: .utf8)
        var counts: [String: Int] = [:]
        for t in titles { counts[t] = text.components(separatedBy: t).count - 1 }
        return counts
    }

    /// The machine's replica is revoked after it synced two activities; it records a third. Its
    /// sync is refused (exit 4) naming the replica and the way out, changing nothing; the
    /// operator issues a replacement; `rehome` keeps what the hub holds and writes again only
    /// the third activity; after one sync hub and machine are identical and each activity is
    /// reported once.
    static func revokeAndReplace(_ h: HubHarness, old: String, heldAtLeast: Int) throws {
        try h.hubOK("revoke", old)
        try h.addActivity("t", title: titles[2], date: "2026-03-04")
        let mine = try h.clientDump("t")
        let hubBefore = try h.hubDump()
        let refused = try h.client("t", ["sync"])
        #expect(refused.status == 4, "\(refused)")
        #expect(refused.stderr.contains(old) && refused.stderr.contains("--replaces \(old)") && refused.stderr.contains("rehome"), "\(refused)")
        #expect(try h.clientDump("t") == mine, "the refused machine keeps its work")
        #expect(try h.hubDump() == hubBefore, "the hub took nothing from a revoked replica")

        let issued = try h.hubOK("enrol", "--unit", "TTQLCK", "--replaces", old, "--out", h.path("t2.enrol"), "--url", h.url)
        let replacement = try #require(try h.enrolment("t2").replaces, "the file names what it replaces")
        #expect(replacement.replica.rawValue == old && replacement.held >= UInt64(heldAtLeast), "\(replacement)")
        #expect(issued.contains("thay cho bản sao \(old)") && issued.contains("hub giữ \(replacement.held) thao tác"), "\(issued)")
        let moved = try h.clientOK("t", "rehome", "--enrolment", h.path("t2.enrol"))
        #expect(moved.contains("giữ \(replacement.held) thao tác hub đã có") && moved.contains("1 bản ghi tạo lại"), "\(moved)")
        let synced = try h.clientOK("t", "sync")
        #expect(synced.contains("hai bên giữ cùng dữ liệu"), "\(synced)")
        #expect(try h.clientDump("t") == h.hubDump())
        #expect(try reportCounts(h) == [titles[0]: 1, titles[1]: 1, titles[2]: 1])
        let again = try h.clientOK("t", "sync")
        #expect(again.contains("đã gửi 0, đã nhận 0"), "\(again)")
        // The old replica stays revoked; the machine now syncs as the new one.
        let enrolments = try h.hubOK("status", "--json")
        #expect(enrolments.contains(try h.enrolment("t2").replicaID.rawValue), "\(enrolments)")
    }

    /// A hub serving one TTQLCK machine `t` that synced its first activity and wrote its second;
    /// returns the harness and the machine's replica id.
    static func machineWithTwoActivities(_ name: String) throws -> (HubHarness, String) {
        let h = try HubHarness.serving(name, replicas: [("t", "TTQLCK")])
        try h.addActivity("t", title: titles[0])
        try h.clientOK("t", "sync")
        try h.addActivity("t", title: titles[1], date: "2026-03-03")
        return (h, try h.enrolment("t").replicaID.rawValue)
    }

    @Test(
        "Given a revoked replica with work the hub never received, when the operator issues a replacement and the machine rehomes, then each activity is reported once and hub and machine are identical"
    )
    func revokedThenReplaced() throws {
        let (h, old) = try Self.machineWithTwoActivities("revoke")
        try h.clientOK("t", "sync")
        try Self.revokeAndReplace(h, old: old, heldAtLeast: 2)
        h.killHub(signal: SIGTERM)
    }

    /// The hub committed the machine's last upload and died before answering: the machine never
    /// learnt that the hub holds its second activity. The replacement carries the hub's count, so
    /// the rehome does not write that activity again (what the machine's own record of the hub's
    /// acknowledgements would have made it do).
    @Test(
        "Given a hub that committed a revoked machine's last upload but never answered it, when the machine rehomes on a replacement, then the activity the hub took is not written twice"
    )
    func replyLostBeforeRevocation() throws {
        let (h, old) = try Self.machineWithTwoActivities("revoke-lost")
        let port = h.port
        h.killHub(signal: SIGTERM)
        try h.startHub(port: port, environment: [FaultHook.variable: "hub-kill-after-commit:1"])
        let lost = try h.client("t", ["sync", "--attempts", "1"])
        #expect(lost.status == 8, "the sync whose reply was lost: \(lost)")
        let hub = h.waitForHubExit()
        #expect(hub?.signal == SIGKILL, "hub killed by its hook: \(hub.map { "\($0)" } ?? "not running")")
        try h.startHub(port: port)
        #expect(try Self.reportCounts(h)[Self.titles[1]] == 1, "the hub committed the second activity")
        try Self.revokeAndReplace(h, old: old, heldAtLeast: 2)
        h.killHub(signal: SIGTERM)
    }

    /// Machine `t` synced its first activity, laptop `g` received it from the hub, `t` wrote a
    /// second that reached `g` only by an ops file; then `t`'s replica was revoked. Returns the
    /// harness and `t`'s old replica id.
    static func carriedThenRevoked(_ name: String) throws -> (HubHarness, String) {
        let h = try HubHarness.serving(name, replicas: [("t", "TTQLCK"), ("g", "TTQLCK")])
        let old = try h.enrolment("t").replicaID.rawValue
        try h.addActivity("t", title: titles[0])
        try h.clientOK("t", "sync")
        try h.clientOK("g", "sync")
        try h.addActivity("t", title: titles[1], date: "2026-03-03")
        let carried = h.path("t-carries.ops")
        try h.clientOK("t", "ops", "export", "--out", carried)
        try h.clientOK("g", "ops", "import", carried)
        try h.hubOK("revoke", old)
        return (h, old)
    }

    /// The machine's unsynced activity reached another laptop at the gate by an ops file; then
    /// its replica was revoked. The hub will never hold that copy (it refuses a revoked replica's
    /// ops from anyone) and the replacement writes the activity again under the new replica, so
    /// the laptop's copy must go: its next sync sets it aside (kept in the old file) instead of
    /// ending "identical" while it differs from the hub, and then showing the activity twice.
    @Test(
        "Given a revoked machine's unsynced activity carried to another laptop by an ops file, when the machine is replaced and both sync, then the laptop sets its copy aside, all three dumps are identical and each activity is reported once"
    )
    func carriedOpsOfARevokedReplica() throws {
        let (h, old) = try Self.carriedThenRevoked("revoke-carried")

        let synced = try h.client("g", ["sync"])
        #expect(synced.status == 0, "\(synced)")
        #expect(synced.out.contains(old) && synced.out.contains("hai bên giữ cùng dữ liệu"), "\(synced)")
        #expect(try h.clientDump("g") == h.hubDump(), "the laptop holds what the hub holds")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: h.dir.path).contains { $0.hasPrefix("g.sqlite.truoc-bo-nhanh-\(old)") },
            "the set-aside copy is kept in the old file")
        let again = try h.clientOK("g", "sync")
        #expect(again.contains("đã gửi 0, đã nhận 0"), "\(again)")

        try h.hubOK("enrol", "--unit", "TTQLCK", "--replaces", old, "--out", h.path("t2.enrol"), "--url", h.url)
        try h.clientOK("t", "rehome", "--enrolment", h.path("t2.enrol"))
        try h.clientOK("t", "sync")
        try h.clientOK("g", "sync")
        let hub = try h.hubDump()
        #expect(try h.clientDump("t") == hub && h.clientDump("g") == hub)
        #expect(try Self.reportCounts(h) == [Self.titles[0]: 1, Self.titles[1]: 1, Self.titles[2]: 0])
        let listed = try h.clientOK("g", "activity", "list")
        #expect(listed.components(separatedBy: Self.titles[1]).count - 1 == 1, "the carried activity once on the laptop: \(listed)")
        h.killHub(signal: SIGTERM)
    }

    /// The same carried activity on a laptop that syncs only by bundle files, the replacement
    /// already synced (so the hub holds the activity once, re-written under the new replica). A
    /// laptop's bundle carries only its own ops, so the hub's report stays right; but the laptop
    /// would show the activity twice, and its dump differ from the hub's, for ever. The hub's
    /// bundle says where the revoked replica's ops end (its count, its chain head there and the
    /// replica's signature on it, under the bundle's HMAC); the laptop checks that head against
    /// its own copy and sets the rest aside, kept in the old file. Then all three dumps are
    /// identical and each activity is reported once. The bundle with that list is checked like
    /// any other: changing an entry breaks its HMAC.
    @Test(
        "Given a revoked machine's unsynced activity carried to a laptop that syncs only by bundles, when the machine is replaced and syncs first, then the hub's bundle sets the copy aside on the laptop, all dumps are identical and each activity is reported once"
    )
    func carriedOpsOfARevokedReplicaByBundle() throws {
        let (h, old) = try Self.carriedThenRevoked("revoke-carried-bundle")
        let g = try h.enrolment("g").replicaID.rawValue
        try h.hubOK("enrol", "--unit", "TTQLCK", "--replaces", old, "--out", h.path("t2.enrol"), "--url", h.url)
        try h.clientOK("t", "rehome", "--enrolment", h.path("t2.enrol"))
        try h.clientOK("t", "sync")
        #expect(try Self.reportCounts(h) == [Self.titles[0]: 1, Self.titles[1]: 1, Self.titles[2]: 0])

        // The laptop's bundle: its own ops only; nothing of the revoked replica reaches the hub.
        try h.clientOK("g", "bundle", "export", "--out", h.path("g-up-1.bundle"))
        try h.hubOK("bundle", "import", h.path("g-up-1.bundle"))
        #expect(try Self.reportCounts(h) == [Self.titles[0]: 1, Self.titles[1]: 1, Self.titles[2]: 0])

        // The hub's bundle names the revoked replica; an entry changed in it breaks the HMAC.
        try h.hubOK("bundle", "export", "--replica", g, "--out", h.path("g-down-1.bundle"))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: h.path("g-down-1.bundle"))))
        let lineEnds = bytes.indices.filter { bytes[$0] == 0x0A }.prefix(2)
        let (first, second) = (try #require(lineEnds.first), try #require(lineEnds.last))
        let header = String(decoding: bytes[(first + 1)..<second], as: UTF8.self)
        #expect(header.contains("\"closed\"") && header.contains(old), "\(header)")
        // The hub's count of the revoked replica's ops, one digit longer.
        let forgedHeader = header.replacingOccurrences(of: "\"c\":", with: "\"c\":1")
        #expect(forgedHeader != header)
        let forged = Array(bytes[...first]) + Array(forgedHeader.utf8) + Array(bytes[second...])
        try Data(forged).write(to: URL(fileURLWithPath: h.path("g-forged.bundle")))
        let mine = try h.clientDump("g")
        let refused = try h.client("g", ["bundle", "import", h.path("g-forged.bundle")])
        #expect(refused.status == 4 && refused.stderr.contains("g-forged.bundle"), "\(refused)")
        #expect(try h.clientDump("g") == mine, "a forged list changes nothing")

        // The hub's bundle sets the copy aside on the laptop.
        try h.hubOK("bundle", "export", "--replica", g, "--out", h.path("g-down-1.bundle"))
        let imported = try h.clientOK("g", "bundle", "import", h.path("g-down-1.bundle"))
        #expect(imported.contains(old) && imported.contains("để riêng"), "\(imported)")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: h.dir.path).contains { $0.hasPrefix("g.sqlite.truoc-bo-nhanh-\(old)") },
            "the set-aside copy is kept in the old file")
        #expect(try h.clientDump("g") == h.hubDump(), "the laptop holds what the hub holds")
        let listed = try h.clientOK("g", "activity", "list")
        #expect(listed.components(separatedBy: Self.titles[1]).count - 1 == 1, "the carried activity once on the laptop: \(listed)")

        // Its next bundle is taken; nothing is counted twice.
        try h.addActivity("g", title: Self.titles[2], date: "2026-03-05")
        try h.clientOK("g", "bundle", "export", "--out", h.path("g-up-2.bundle"))
        let taken = try h.hubOK("bundle", "import", h.path("g-up-2.bundle"))
        #expect(taken.contains(g), "\(taken)")
        try h.hubOK("bundle", "export", "--replica", g, "--out", h.path("g-down-2.bundle"))
        try h.clientOK("g", "bundle", "import", h.path("g-down-2.bundle"))
        try h.clientOK("t", "sync")
        let hub = try h.hubDump()
        #expect(try h.clientDump("g") == hub && h.clientDump("t") == hub)
        #expect(try Self.reportCounts(h) == [Self.titles[0]: 1, Self.titles[1]: 1, Self.titles[2]: 1])
        h.killHub(signal: SIGTERM)
    }

    @Test(
        "Given bad --replaces values (malformed, unknown, another unit's, with --restore), a replacement for another replica or one whose digests were cut, then each is refused naming the field and value, and nothing changes"
    )
    func badReplacements() throws {
        let h = try HubHarness.serving("revoke-bad", replicas: [("t", "TTQLCK"), ("u", "TTQLCK"), ("v", "VP")])
        try h.addActivity("t", title: Self.titles[0])
        try h.clientOK("t", "sync")
        let t = try h.enrolment("t").replicaID.rawValue
        let v = try h.enrolment("v").replicaID.rawValue
        let before = try h.hubOK("status", "--json")
        let cases: [([String], Int32, String)] = [
            (["--replaces", "không-phải-mã"], 2, "không-phải-mã"),
            (["--replaces", "0badc0de"], 3, "0badc0de"),
            (["--replaces", v], 2, v),
        ]
        for (extra, code, value) in cases {
            let r = try Run.hub(["enrol", "--unit", "TTQLCK", "--out", h.path("x.enrol"), "--url", h.url, "--db", h.hubDB] + extra, in: h.dir)
            #expect(r.status == code && r.stderr.contains("replaces") && r.stderr.contains(value), "\(extra): \(r)")
            #expect(!FileManager.default.fileExists(atPath: h.path("x.enrol")), "\(extra): no file written")
        }
        let withRestore = try Run.hub(["enrol", "--restore", h.path("t.enrol"), "--replaces", t, "--db", h.hubDB], in: h.dir)
        #expect(withRestore.status == 2 && withRestore.stderr.contains("--replaces") && withRestore.stderr.contains(t), "\(withRestore)")
        #expect(try h.hubOK("status", "--json") == before, "no enrolment added, nothing revoked")
        // VP's machine still syncs: another unit's replica was not revoked by the refused call.
        try h.clientOK("v", "sync")

        // A replacement for the other TTQLCK machine's replica, taken to this one, is refused here.
        let u = try h.enrolment("u").replicaID.rawValue
        try h.hubOK("enrol", "--unit", "TTQLCK", "--replaces", u, "--out", h.path("u2.enrol"), "--url", h.url)
        let mine = try h.clientDump("t")
        let wrong = try h.client("t", ["rehome", "--enrolment", h.path("u2.enrol")])
        #expect(wrong.status == 2 && wrong.stderr.contains(u) && wrong.stderr.contains(t), "\(wrong)")
        #expect(try h.clientDump("t") == mine)
        #expect(try FileManager.default.contentsOfDirectory(atPath: h.dir.path).allSatisfy { !$0.hasPrefix("t.sqlite.") }, "no file left beside it")

        // A replacement whose digests were cut (a damaged or edited file) is refused when read.
        try h.hubOK("enrol", "--unit", "TTQLCK", "--replaces", t, "--out", h.path("t2.enrol"), "--url", h.url)
        var file = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: h.path("t2.enrol")))) as? [String: Any])
        var replaces = try #require(file["replaces"] as? [String: Any])
        replaces["digests"] = String((replaces["digests"] as? String ?? "").dropLast(12))
        file["replaces"] = replaces
        try JSONSerialization.data(withJSONObject: file).write(to: URL(fileURLWithPath: h.path("t2.enrol")))
        let cut = try h.client("t", ["rehome", "--enrolment", h.path("t2.enrol")])
        #expect(cut.status == 7 && cut.stderr.contains("replaces") && cut.stderr.contains(t), "\(cut)")
        #expect(try h.clientDump("t") == mine)
        h.killHub(signal: SIGTERM)
    }
}
