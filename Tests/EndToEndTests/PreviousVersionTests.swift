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
        let hubDump = try Run.ok(.hub, ["dump", "--db", hub], in: dir.url).stdout
        #expect(hubDump == (try Self.fixture("hub.dump")), "hub dump differs from the previous release's")
        let unitDump = try Run.ok(.unitClient, ["dump", "--db", unit], in: dir.url).stdout
        #expect(unitDump == (try Self.fixture("TTQLCK.dump")), "unit dump differs from the previous release's")
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

    @Test(
        "The reports come out as the previous release wrote them",
        arguments: [
            ("q1.md", ["--period", "2026-Q1", "--format", "md", "--number", "05", "--date", "2026-03-16"]),
            ("q1.csv", ["--period", "2026-Q1", "--format", "csv", "--number", "05", "--date", "2026-03-16"]),
            ("q1.json", ["--period", "2026-Q1", "--format", "json", "--number", "05", "--date", "2026-03-16"]),
            ("y.json", ["--period", "2026-Y", "--format", "json", "--date", "2026-12-20"]),
        ])
    func sameReports(file: String, options: [String]) throws {
        let dir = try TempDir("previous")
        let hub = try Self.copy("hub.sqlite", to: dir)
        let out = dir.path(file)
        try Run.ok(.hub, ["report", "--db", hub] + options + ["--out", out], in: dir.url)
        let written = try Data(contentsOf: URL(fileURLWithPath: out))
        #expect(written == (try Self.fixture(file)), "\(file) differs from the previous release's")
    }
}
