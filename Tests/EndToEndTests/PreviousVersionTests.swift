import Foundation
import SyncCore
import Testing

/// Databases written by the previous release open with the current programs and give the same
/// bytes: the canonical dump (so replicas upgraded at different times still converge) and the
/// reports (so a report re-issued after an upgrade says what it said). See Fixtures/previous-main.
@Suite("Databases of the previous release: same dump, same reports")
struct PreviousVersionTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/previous-main")

    static func fixture(_ name: String) throws -> Data { try Data(contentsOf: fixtures.appendingPathComponent(name)) }

    /// A dump's records split into the plan's entries (`KH.…`) and the rest, each as canonical
    /// JSON bytes, and its version vector.
    static func split(_ dump: Data) throws -> (plan: Data, rest: Data, vector: [String: Int]) {
        let object = try #require(try JSONSerialization.jsonObject(with: dump) as? [String: Any])
        let records = try #require(object["records"] as? [String: Any])
        let plan = records.filter { $0.key.hasPrefix("KH.") }
        let rest = records.filter { !$0.key.hasPrefix("KH.") }
        func bytes(_ o: [String: Any]) throws -> Data { try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]) }
        return (plan.isEmpty ? Data() : try bytes(plan), try bytes(rest), try #require(object["version_vector"] as? [String: Int]))
    }

    /// The plan's wording as this release corrected it (docs/PLAN-DATA.md): a report of the
    /// previous release's data names the items as the plan words them.
    static let corrected: [(String, String)] = [
        ("Vai trò người đứng đầu; PAR INDEX", "Vai trò của cấp ủy Đảng, người đứng đầu; PAR INDEX"),
        ("Một cửa, một cửa liên thông; khai thác dữ liệu số", "Một cửa, một cửa liên thông; khai thác dữ liệu số; Chỉ thị 27/CT-TTg"),
        (
            "Sau bầu cử Quốc hội khóa XVI, HĐND 2026-2031; phân cấp, phân quyền",
            "Sau bầu cử đại biểu Quốc hội khóa XVI và đại biểu HĐND các cấp nhiệm kỳ 2026-2031; phân cấp, phân quyền"
        ),
        ("Cơ chế tài chính đơn vị sự nghiệp; tài sản công", "Cơ chế tài chính đơn vị sự nghiệp công lập; tài sản công"),
        (
            "Kết quả nổi bật, cách làm hay, sáng kiến; tồn tại, hạn chế",
            "Kết quả nổi bật, cách làm hay, sáng kiến; biểu dương tập thể, cá nhân tiêu biểu; tồn tại, hạn chế"
        ),
        ("Tập huấn, bồi dưỡng; lồng ghép giao ban", "Tham gia tập huấn, bồi dưỡng; lồng ghép giao ban"),
    ]

    /// A copy of a fixture database in `dir` (the programs may add a -wal file beside it).
    static func copy(_ name: String, to dir: TempDir) throws -> String {
        let path = dir.path(name)
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent(name), to: URL(fileURLWithPath: path))
        return path
    }

    @Test("The hub's and a unit's databases dump byte for byte as the previous release dumped them")
    func sameDump() throws {
        let dir = try TempDir("previous")
        let hub = try Self.copy("hub.sqlite", to: dir)
        let unit = try Self.copy("TTQLCK.sqlite", to: dir)
        // A fresh replica's plan entries (genesis since the plan is data): what the upgrade adds.
        let fresh = dir.path("fresh.sqlite")
        try Run.ok(.hub, ["init", "--db", fresh], in: dir.url)
        let freshDump = try Self.split(try Run.ok(.hub, ["dump", "--db", fresh], in: dir.url).stdout)
        #expect(!freshDump.plan.isEmpty)
        for (name, file) in [(hub, "hub.dump"), (unit, "TTQLCK.dump")] {
            let program: Run.Tool = name == hub ? .hub : .unitClient
            let upgraded = try Self.split(try Run.ok(program, ["dump", "--db", name], in: dir.url).stdout)
            let previous = try Self.split(try Self.fixture(file))
            // Every record as the previous release dumped it, byte for byte; the plan's entries
            // exactly as a fresh replica makes them; the vector raised only for genesis.
            #expect(upgraded.rest == previous.rest, "\(file): records differ from the previous release's")
            #expect(upgraded.plan == freshDump.plan, "\(file): the plan's genesis entries differ from a fresh replica's")
            #expect(previous.plan.isEmpty)
            var vv = previous.vector
            vv["genesis"] = freshDump.vector["genesis"]
            #expect(upgraded.vector == vv, "\(file): version vector")
        }
        // The upgraded replica still writes and syncs by bundle with the upgraded hub.
        let id = try Fixtures.addActivity(
            db: unit, in: dir.url, form: "HT02", content: "ND05", date: "2026-03-20", title: "Đối thoại sau nâng cấp", quantity: 1)
        let replica = try #require(
            (try JSONSerialization.jsonObject(with: try Run.ok(.unitClient, ["status", "--json", "--db", unit], in: dir.url).stdout)
                as? [String: Any])?["replica_id"] as? String)
        // Upgraded in place: the ops it held start its chain; only what it wrote since (its key and
        // the activity) goes up, and the hub applies each once.
        let unitOpsBefore = try ReplicaStore.open(path: hub).versionVector()[try #require(ReplicaID(replica))]
        let hubOpsBefore = try ReplicaStore.open(path: hub).opCount()
        let export = try Run.ok(.unitClient, ["bundle", "export", "--db", unit, "--out", dir.path("up.bundle")], in: dir.url)
        let imported = try Run.ok(.hub, ["bundle", "import", "--db", hub, dir.path("up.bundle")], in: dir.url)
        let unitOpsAfter = try ReplicaStore.open(path: unit).versionVector()[try #require(ReplicaID(replica))]
        #expect(export.out.contains(": \(unitOpsAfter - unitOpsBefore) thao tác gửi hub"), "\(export) \(unitOpsBefore)→\(unitOpsAfter)")
        #expect(imported.out.contains("\(unitOpsAfter - unitOpsBefore) thao tác mới, 0 đã có"), "\(imported)")
        #expect(try ReplicaStore.open(path: hub).opCount() == hubOpsBefore + Int(unitOpsAfter - unitOpsBefore))
        try Run.ok(.hub, ["bundle", "export", "--db", hub, "--replica", replica, "--out", dir.path("down.bundle")], in: dir.url)
        try Run.ok(.unitClient, ["bundle", "import", "--db", unit, dir.path("down.bundle")], in: dir.url)
        let after = try Run.ok(.hub, ["dump", "--db", hub], in: dir.url).stdout
        #expect(String(decoding: after, as: UTF8.self).contains(id))
        #expect(after == (try Run.ok(.unitClient, ["dump", "--db", unit], in: dir.url).stdout), "hub and unit differ after the upgrade")
    }

    /// The CSV byte for byte; the JSON key by key: every key the previous release wrote has the value it wrote
    /// (schema 2 only adds keys: duties, directives, the Ban's text, docs/REPORTS.md). The Markdown and DOCX
    /// bodies were rewritten on purpose (issue 12: duties from evidence, the Ban's own text); their figures are
    /// the JSON's.
    @Test(
        "The reports come out as the previous release wrote them",
        arguments: [
            ("q1.csv", ["--period", "2026-Q1", "--format", "csv", "--number", "05", "--date", "2026-03-16"]),
            ("q1.json", ["--period", "2026-Q1", "--format", "json", "--number", "05", "--date", "2026-03-16"]),
            ("y.json", ["--period", "2026-Y", "--format", "json", "--date", "2026-12-20"]),
        ])
    func sameReports(file: String, options: [String]) throws {
        let dir = try TempDir("previous")
        let hub = try Self.copy("hub.sqlite", to: dir)
        let out = dir.path(file)
        try Run.ok(.hub, ["report", "--db", hub] + options + ["--out", out], in: dir.url)
        let written = String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)), as: UTF8.self)
        var expected = String(decoding: try Self.fixture(file), as: UTF8.self)
        for (before, after) in Self.corrected { expected = expected.replacingOccurrences(of: before, with: after) }
        guard file.hasSuffix(".json") else {
            #expect(written == expected, "\(file) differs from the previous release's (wording corrections aside)")
            return
        }
        let now = try #require(try JSONSerialization.jsonObject(with: Data(written.utf8)) as? [String: Any])
        let then = try #require(try JSONSerialization.jsonObject(with: Data(expected.utf8)) as? [String: Any])
        #expect(then["schema"] as? Int == 1 && now["schema"] as? Int == 2)
        func bytes(_ v: Any) throws -> Data { try JSONSerialization.data(withJSONObject: ["v": v], options: [.sortedKeys]) }
        for (key, value) in then where key != "schema" {
            let mine = try #require(now[key], "\(file): «\(key)» is gone")
            #expect(try bytes(mine) == (try bytes(value)), "\(file): «\(key)» differs from the previous release's")
        }
    }

    /// A replica of the previous release that recorded 560 activities offline (6,160 ops the hub
    /// lacks, Fixtures/previous-main-offline): it signs its first head, and registers its key,
    /// after them all, so its first page to the hub cannot be cut shorter. The hub refused it as
    /// over 5,000 ops (400, exit 2) on every sync; now it takes it, and a new replica receives it.
    @Test(
        "Given the previous release's replica with 6,160 ops never synced, when it syncs with the upgraded programs, then the hub takes them in one page and a new replica receives them: three identical dumps"
    )
    func longUnsyncedWork() throws {
        let h = try HubHarness("long-offline", copyingHub: Self.fixtures.appendingPathComponent("hub.sqlite"))
        try h.startHub()
        let offline = Self.fixtures.deletingLastPathComponent().appendingPathComponent("previous-main-offline/TTQLCK.sqlite")
        try FileManager.default.copyItem(atPath: offline.path, toPath: h.db("t"))
        let before = try h.hubDump()
        let sync = try h.client("t", ["sync", "--hub", h.url, "--json"])
        #expect(sync.status == 0, "\(sync)")
        let report = try VerifiableWritesTests.json(sync)
        // The 6,160 ops of the previous release and the key registration written at the upgrade.
        #expect(report["sent"] as? Int == 6_161, "\(report)")
        #expect(try h.hubDump() != before)
        #expect(try h.clientDump("t") == h.hubDump())
        // A new replica asks for pages of 100: the one holding that run is as long as the run.
        try h.replica("vp", unit: "VP")
        try h.clientOK("vp", "sync", "--page-size", "100")
        #expect(try h.clientDump("vp") == h.hubDump())
        let activities = try h.clientOK("vp", "activity", "list")
        #expect(activities.contains("Tin bài số 560 về dịch vụ công trực tuyến"), "\(activities.prefix(400))")
        _ = try h.hubOK("verify")
        h.killHub(signal: SIGTERM)
    }
}
